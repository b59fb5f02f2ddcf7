import { ValidationError } from '../../errors.ts';
import type { TargetKind } from '../../reconcile/target-kind.ts';
import {
  isOwnedGcpPrincipal,
  ownedGcpPrincipals,
  planGcpMemberRoles,
  revokeGcpPrincipal,
} from './member-roles-planner.ts';
import { type GcpPolicy, gcpPolicyUsage } from './policy-planner.ts';
import { refusedProjectRole } from './project-roles.ts';

/**
 * Project roles (seed 001, "Grant an IAM role to your Deployment workload identity"): per role of the rule, what
 * `gcloud projects add-iam-policy-binding <project> --member=serviceAccount:<workload identity> --role=<role>` does.
 * A project's policy is large and shared by everyone in it: conditional bindings, audit configs, the etag and every
 * other member are written back exactly as read (member-roles-planner.ts); the etag makes writes conditional, so
 * nothing needs to settle.
 *
 * What this tool owns is judged by `managedRoles` (gcp.allowedProjectRoles), not by the roles rules name today: a
 * role taken off a rule later still holds the members this tool added, and once their Deployment is gone prune must
 * find them. A member is ours only when it is an Astro identity (the principal allowlist) in the unconditional
 * binding of a managed role; a role taken off gcp.allowedProjectRoles is outside this tool altogether and its members
 * are left for a person. Revoking a principal that is not an Astro identity changes nothing, whoever asks.
 */
export function gcpProjectKind(
  isAstroIdentity: (email: string) => boolean,
  managedRoles: readonly string[],
): TargetKind<'gcp-project', GcpPolicy> {
  // Refused roles can never be in a parsed config; filtering again keeps a hand-built kind just as safe.
  const managed = [...new Set(managedRoles)].filter((role) => refusedProjectRole(role) === undefined).sort();
  return {
    kind: 'gcp-project',
    needs: 'principal',
    owner: 'principal',
    settle: false,
    grant(current, { target, principal = '', roles = target.roles }) {
      const outside = roles.filter((role) => !managed.includes(role));
      if (outside.length > 0) {
        const why = outside.map((role) => refusedProjectRole(role) ?? `${role} is not in gcp.allowedProjectRoles`);
        throw new ValidationError(`refused to grant on project ${target.project}: ${why.join('; ')}`, {
          field: 'gcp.allowedProjectRoles',
        });
      }
      const plan = planGcpMemberRoles({ policy: current, roles, principal });
      return { changed: plan.changed, added: plan.added, present: plan.present, next: plan.policy };
    },
    revoke(current, principal) {
      if (!isOwnedGcpPrincipal(principal, isAstroIdentity)) return { changed: false, removed: [], next: current };
      return revokeGcpPrincipal(current, managed, principal);
    },
    owned: (current) => ownedGcpPrincipals(current, managed, isAstroIdentity),
    usage: gcpPolicyUsage,
  };
}
