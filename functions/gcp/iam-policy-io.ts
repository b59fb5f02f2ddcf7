import type { iam_v1 } from '@googleapis/iam';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import type { TargetIo } from '../../shared/reconcile/target-kind.ts';
import { toGcpTargetError } from './gcp-errors.ts';
import type { PolicyWriteLimiter } from './policy-write-limiter.ts';

/**
 * The IAM side of one Google service account. Writes carry the etag read with the policy, so a concurrent change
 * makes Google answer 409 (WriteConflictError) instead of silently losing it; reconcileTarget then re-reads.
 */
export function iamPolicyIo(
  client: iam_v1.Iam,
  target: { serviceAccount: string },
  writes: PolicyWriteLimiter,
): TargetIo<GcpPolicy> {
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
    async write(_current, next) {
      const conditional = (next.bindings ?? []).some((binding) => binding.condition !== undefined);
      const policy = { ...next, ...(conditional ? { version: 3 } : {}) } as iam_v1.Schema$Policy;
      await writes.beforeWrite('iam');
      try {
        await client.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy } });
      } catch (error) {
        throw toGcpTargetError(error, target.serviceAccount, 'setIamPolicy');
      }
    },
  };
}
