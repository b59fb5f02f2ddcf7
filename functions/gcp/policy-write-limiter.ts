import { type Clock, keyedTokenBuckets } from '../common/token-bucket.ts';

/**
 * IAM meters policy writes per project and minute (600 by default), and Google charges API quota to the consumer
 * project: the one of the function's credentials, whatever project the service account or target lives in. Service
 * account writes (IAM) and project writes (Resource Manager) are separate APIs with separate quotas. So the key is
 * the quota a write is charged to, one per API for the function's own project, and every target writes through it:
 * a sweep that finds drift on hundreds of service accounts at once paces its writes instead of earning 429s that
 * gaxios retries three times and then gives up on.
 */

export type PolicyWriteQuota = 'iam' | 'cloudresourcemanager';

export interface PolicyWriteLimiter {
  /** Resolves when one more setIamPolicy charged to this quota keeps it under `writesPerMinute`. */
  beforeWrite(quota: PolicyWriteQuota): Promise<void>;
}

export function createPolicyWriteLimiter(options: { writesPerMinute: number; clock?: Clock }): PolicyWriteLimiter {
  // A burst of 1: at most `writesPerMinute` in any minute, however the writes are spread over it.
  const buckets = keyedTokenBuckets({
    ratePerSecond: options.writesPerMinute / 60,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  return { beforeWrite: (quota) => buckets.take(quota) };
}
