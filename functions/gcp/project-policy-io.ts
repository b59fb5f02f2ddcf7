import type { cloudresourcemanager_v3 } from '@googleapis/cloudresourcemanager/build/v3.js';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import type { TargetIo } from '../../shared/reconcile/target-kind.ts';
import { toGcpProjectError } from './gcp-errors.ts';
import type { PolicyWriteLimiter } from './policy-write-limiter.ts';

export type ResourceManager = cloudresourcemanager_v3.Cloudresourcemanager;

/**
 * The Resource Manager v3 side of one project's IAM policy. The client comes from a loader because most functions
 * never have a project target: the client is created (and its code loaded) on the first read.
 *
 * The write carries the etag read with the policy, so a concurrent change answers 409 (WriteConflictError) and
 * reconcileTarget re-reads. `updateMask: bindings,etag` is Google's default spelled out: only the bindings change, so
 * the project's auditConfigs stay exactly as Google holds them (they are sent back as read all the same).
 */
export function projectPolicyIo(
  client: () => Promise<ResourceManager>,
  target: { project: string },
  writes: PolicyWriteLimiter,
): TargetIo<GcpPolicy> {
  const resource = `projects/${target.project}`;
  return {
    async read() {
      const manager = await client();
      try {
        // Version 3 returns conditional bindings as they are; a lower version hides them behind renamed roles.
        const response = await manager.projects.getIamPolicy({
          resource,
          requestBody: { options: { requestedPolicyVersion: 3 } },
        });
        return response.data as GcpPolicy;
      } catch (error) {
        throw toGcpProjectError(error, target.project, 'getIamPolicy');
      }
    },
    async write(_current, next) {
      const manager = await client();
      // Google refuses a conditional binding in a policy below version 3.
      const conditional = (next.bindings ?? []).some((binding) => binding.condition !== undefined);
      const policy = { ...next, ...(conditional ? { version: 3 } : {}) } as cloudresourcemanager_v3.Schema$Policy;
      await writes.beforeWrite('cloudresourcemanager');
      try {
        await manager.projects.setIamPolicy({ resource, requestBody: { policy, updateMask: 'bindings,etag' } });
      } catch (error) {
        throw toGcpProjectError(error, target.project, 'setIamPolicy');
      }
    },
  };
}
