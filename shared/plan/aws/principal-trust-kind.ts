import type { TargetKind } from '../../reconcile/target-kind.ts';
import {
  droppedNotes,
  ownedPrincipalsAws,
  planAwsPrincipalTrust,
  revokeAwsPrincipal,
} from './principal-trust-planner.ts';
import { type RoleTrust, trustPolicyUsage } from './role-trust-kind.ts';
import { blockedFinding, editedWarnings } from './trust-findings.ts';

/**
 * The Deployment's workload identity role as `Principal.AWS` in a customer role's trust policy (Astro's default
 * identity path). Same document and I/O as the IRSA kind, so both share the role's lane; no etag, so writes settle.
 * Owned entries include deleted roles' unique ids (`AROA...`): no Deployment uses one, so the sweep finds them stale.
 */
export const awsPrincipalTrustKind: TargetKind<'aws-role-principal', RoleTrust> = {
  kind: 'aws-role-principal',
  needs: 'principal',
  owner: 'principal',
  settle: true,
  grant(current, { target, principal = '' }) {
    const plan = planAwsPrincipalTrust({
      policy: current.policy,
      roleArn: target.roleArn,
      principal,
      maxSize: current.quota,
    });
    return {
      changed: plan.changed,
      added: plan.added,
      present: plan.present,
      next: { ...current, policy: plan.policy },
      ...droppedNotes(plan.dropped),
      ...blockedFinding(plan.blocked, 'principal'),
      ...editedWarnings(plan.edited),
    };
  },
  revoke(current, principal) {
    const plan = revokeAwsPrincipal(current.policy, principal);
    const next = { ...current, policy: plan.next };
    return { changed: plan.changed, removed: plan.removed, next, ...droppedNotes(plan.dropped) };
  },
  owned: (current) => ownedPrincipalsAws(current.policy),
  usage: trustPolicyUsage,
};
