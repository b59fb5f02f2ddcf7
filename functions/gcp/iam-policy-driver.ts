import type { iam_v1 } from '@googleapis/iam';
import { ValidationError } from '../../shared/errors.ts';
import { ownedNamespacesGcp, revokeGcpNamespace } from '../../shared/plan/gcp/ownership.ts';
import { type GcpMemberFormat, type GcpPolicy, planGcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { toGcpTargetError } from './gcp-errors.ts';

/**
 * The IAM side of one Google service account. Writes carry the etag read with the policy, so a concurrent change
 * makes Google answer 409 (WriteConflictError) instead of silently losing it; reconcileTarget then re-reads.
 */
export function createIamPolicyDriver(
  client: iam_v1.Iam,
  target: { serviceAccount: string; pool: string | undefined },
  memberFormat: GcpMemberFormat,
): TargetDriver<GcpPolicy> {
  const resource = `projects/-/serviceAccounts/${target.serviceAccount}`;
  return {
    async read() {
      try {
        // Version 3 returns conditional bindings as they are; a lower version would hide them behind renamed roles.
        const response = await client.projects.serviceAccounts.getIamPolicy({
          resource,
          'options.requestedPolicyVersion': 3,
        });
        return response.data as GcpPolicy;
      } catch (error) {
        throw toGcpTargetError(error, target.serviceAccount, 'getIamPolicy');
      }
    },
    plan(current, request) {
      if (request.action === 'revoke') {
        const revoke = revokeGcpNamespace(current, request.grant.namespace);
        return { changed: revoke.changed, added: revoke.removed, next: revoke.next };
      }
      if (target.pool === undefined)
        throw new ValidationError('no workload identity pool is configured', { field: 'gcp.pools' });
      const plan = planGcpPolicy({ policy: current, grant: request.grant, pool: target.pool, memberFormat });
      return { changed: plan.changed, added: plan.added, next: plan.policy };
    },
    owned: (current) => ownedNamespacesGcp(current),
    async write(_current, next) {
      const conditional = (next.bindings ?? []).some((binding) => binding.condition !== undefined);
      const policy = { ...next, ...(conditional ? { version: 3 } : {}) } as iam_v1.Schema$Policy;
      try {
        await client.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy } });
      } catch (error) {
        throw toGcpTargetError(error, target.serviceAccount, 'setIamPolicy');
      }
    },
  };
}
