import type { TargetKind } from '../../reconcile/target-kind.ts';
import { foreignMembersGcp, ownedNamespacesGcp, revokeGcpNamespace } from './ownership.ts';
import { type GcpMemberFormat, type GcpPolicy, gcpPolicyUsage, planGcpPolicy } from './policy-planner.ts';

/**
 * roles/iam.workloadIdentityUser on a Google service account for the Deployment's pool members. The etag in the
 * policy makes every write conditional, so nothing needs to settle.
 */
export function gcpServiceAccountKind(memberFormat: GcpMemberFormat): TargetKind<'gcp-service-account', GcpPolicy> {
  return {
    kind: 'gcp-service-account',
    needs: 'pool',
    owner: 'namespace',
    settle: false,
    // The pool comes with the request: the primary cluster's, or the DR cluster's (gcp.pools.byIssuer).
    grant(current, { grant, pool = '' }) {
      const plan = planGcpPolicy({ policy: current, grant, pool, memberFormat });
      return { changed: plan.changed, added: plan.added, present: plan.present, next: plan.policy };
    },
    revoke: (current, namespace) => revokeGcpNamespace(current, namespace),
    owned: (current) => ownedNamespacesGcp(current),
    usage: gcpPolicyUsage,
    foreign: (current) => foreignMembersGcp(current),
  };
}
