import { ValidationError } from '../../errors.ts';
import type { TargetKind } from '../../reconcile/target-kind.ts';
import { ownedNamespacesGcp, revokeGcpNamespace } from './ownership.ts';
import { type GcpMemberFormat, type GcpPolicy, planGcpPolicy } from './policy-planner.ts';

/**
 * roles/iam.workloadIdentityUser on a Google service account for the Deployment's pool members. The etag in the
 * policy makes every write conditional, so nothing needs to settle.
 */
export function gcpServiceAccountKind(memberFormat: GcpMemberFormat): TargetKind<'gcp-service-account', GcpPolicy> {
  return {
    kind: 'gcp-service-account',
    needsIssuer: false,
    settle: false,
    grant(current, { target, grant }) {
      if (target.pool === undefined) {
        throw new ValidationError('no workload identity pool is configured for this cluster', { field: 'gcp.pools' });
      }
      const plan = planGcpPolicy({ policy: current, grant, pool: target.pool, memberFormat });
      return { changed: plan.changed, added: plan.added, present: plan.present, next: plan.policy };
    },
    revoke: (current, namespace) => revokeGcpNamespace(current, namespace),
    owned: (current) => ownedNamespacesGcp(current),
  };
}
