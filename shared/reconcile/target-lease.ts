import { LeaseChangedError } from '../errors.ts';
import type { GrantOutcome, GrantRequest, ReconcileOptions, TargetDriver } from './reconcile-target.ts';
import { reconcileTarget } from './reconcile-target.ts';

/**
 * Mutual exclusion per target across processes (every function instance and `sync --apply`), for documents that have
 * no etag (IAM trust policies): whoever writes holds the target's lease from the read its write was planned from
 * until the verify read. The core sees only this port; AWS implements it with a DynamoDB item.
 */
export interface TargetLease {
  /**
   * Waits until the lease on `key` is ours; throws a retryable TargetError when another holder keeps it past the wait
   * budget, a TargetError when the lease store refuses us.
   */
  acquire(key: string): Promise<LeaseHold>;
}

export interface LeaseHold {
  /**
   * Called right before every write: proves the lease is still ours and unexpired, and extends it so the write has the
   * whole lease time to land. Throws LeaseChangedError when it expired or another writer took it.
   */
  fence(): Promise<void>;
  /** After the verify read. Never throws: a lease we fail to delete just expires. */
  release(): Promise<void>;
}

/**
 * reconcileTarget under a lease, taken before the first read (a failure to take it fails the requests as a read
 * failure would) and released after the last verify read. Every write is fenced: when the lease expired or another
 * writer took it since, the write is not sent; the lease is taken again (waiting for the other holder to finish) and
 * reconcileTarget re-reads and re-plans under it (LeaseChangedError is a write conflict). So no writer sends a
 * document planned from a read made before someone else's write. Dry runs never write and never take it.
 */
export async function reconcileLeased<Doc>(
  driver: TargetDriver<Doc>,
  lease: TargetLease,
  key: string,
  requests: readonly GrantRequest[],
  options: ReconcileOptions = {},
): Promise<Map<string, GrantOutcome>> {
  if (options.dryRun) return reconcileTarget(driver, requests, options);
  let hold: LeaseHold | undefined;
  const leased: TargetDriver<Doc> = {
    ...driver,
    async read() {
      hold ??= await lease.acquire(key);
      return driver.read();
    },
    async write(current, next) {
      if (hold === undefined) throw new LeaseChangedError(`no lease on ${key}: re-reading under it first`);
      try {
        await hold.fence();
      } catch (error) {
        if (!(error instanceof LeaseChangedError)) throw error;
        // Expired or stolen: someone else may have written since our read. The re-read takes it again first.
        hold = undefined;
        throw error;
      }
      return driver.write(current, next);
    },
  };
  try {
    return await reconcileTarget(leased, requests, options);
  } finally {
    await hold?.release();
  }
}
