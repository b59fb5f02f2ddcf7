import type { TargetKind } from '../../reconcile/target-kind.ts';
import {
  isOwnedGcpPrincipal,
  ownedGcpPrincipals,
  planGcpMemberRoles,
  revokeGcpPrincipal,
} from './member-roles-planner.ts';
import { type GcpPolicy, gcpPolicyUsage } from './policy-planner.ts';

export const TOKEN_CREATOR = 'roles/iam.serviceAccountTokenCreator';

/**
 * Impersonation (seed 001, "Authorize your Deployment through GCP service account impersonation"): the Deployment's
 * Astro-managed workload identity gets roles/iam.serviceAccountTokenCreator on the customer's service account. Same
 * document, I/O and lane as the workloadIdentityUser kind; the etag makes writes conditional.
 */
export function gcpTokenCreatorKind(
  isAstroIdentity: (email: string) => boolean,
): TargetKind<'gcp-service-account-token-creator', GcpPolicy> {
  return {
    kind: 'gcp-service-account-token-creator',
    needs: 'principal',
    owner: 'principal',
    settle: false,
    grant(current, { principal = '' }) {
      const plan = planGcpMemberRoles({ policy: current, roles: [TOKEN_CREATOR], principal });
      return { changed: plan.changed, added: plan.added, present: plan.present, next: plan.policy };
    },
    // Ownership is the principal allowlist (a policy has no marker of who added a member): a deleted Deployment whose
    // identity is not an Astro one takes nothing back, or a signed event could remove a person's grant.
    revoke(current, principal) {
      if (!isOwnedGcpPrincipal(principal, isAstroIdentity)) return { changed: false, removed: [], next: current };
      return revokeGcpPrincipal(current, [TOKEN_CREATOR], principal);
    },
    owned: (current) => ownedGcpPrincipals(current, [TOKEN_CREATOR], isAstroIdentity),
    usage: gcpPolicyUsage,
  };
}
