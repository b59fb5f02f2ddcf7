import { asIdentitySyncError, TargetError, UnsafePlanError, WriteConflictError } from '../errors.ts';
import type { DesiredGrant } from '../plan/subjects.ts';
import type { TargetStatus } from '../report/outcome.ts';

/** One Deployment's grant on a target; `key` ties the outcome back to its event. */
export interface GrantRequest {
  readonly key: string;
  readonly grant: DesiredGrant;
  /** The Deployment cluster's OIDC issuer (AWS, Azure); GCP does not need it. */
  readonly issuer: string | undefined;
  /** `revoke` removes what this tool added for the grant's namespace (prune); default `grant`. */
  readonly action?: 'grant' | 'revoke';
  /** Plan only, never write, even when other requests on the target write (prune off: report stale entries). */
  readonly simulate?: boolean;
}

export interface DriverPlan<Doc> {
  readonly changed: boolean;
  /** What this plan adds, in the target's own terms (subjects, members, credential names). */
  readonly added: readonly string[];
  /** What a revoke takes back (this tool's own entries of the namespace). */
  readonly removed?: readonly string[];
  /** What the request needs and the target already had (reported so a person sees the whole grant). */
  readonly present: readonly string[];
  readonly next: Doc;
}

/**
 * One target as reconcileTarget drives it (a role, a service account, an identity): `plan` is the pure planner bound
 * to the target; `read` and `write` are the only calls that reach the cloud. Built by `driverFor` from a target
 * kind and the cloud adapter's I/O.
 */
export interface TargetDriver<Doc> {
  read(): Promise<Doc>;
  plan(current: Doc, request: GrantRequest): DriverPlan<Doc>;
  /** Throws WriteConflictError when the write lost a race; TargetError for anything a person must fix. */
  write(current: Doc, next: Doc): Promise<void>;
  /** Namespaces that have entries this tool owns on the target (for the sweep's stale check). */
  owned(current: Doc): ReadonlySet<string>;
  /**
   * The target has no optimistic concurrency (IAM trust policies have no etag): a writer that read before our write
   * can still overwrite it after our verify read. After a verified write, wait out such a writer's read-modify-write
   * (twice our own cycle) and check once more; a loss then is written again like any other.
   */
  readonly settle?: boolean;
}

export interface GrantOutcome {
  readonly status: TargetStatus;
  readonly added: readonly string[];
  /** A revoke's entries: removed (`revoked`) or left in place because prune is off (`stale`). */
  readonly removed?: readonly string[];
  readonly present?: readonly string[];
  readonly reason?: string;
  readonly remedies?: readonly string[];
  readonly retryable?: boolean;
}

export interface ReconcileOptions {
  readonly dryRun?: boolean;
  /** Read-plan-write rounds before a grant that keeps disappearing is reported as failed. */
  readonly maxAttempts?: number;
  /** Lower bound of the settle wait for drivers that need it (default 0: twice the measured cycle). */
  readonly settleMs?: number;
  readonly now?: () => number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Brings one target to the state every request needs with as few calls as possible: a converged target costs one
 * read; a change costs read + one write for all requests + one read to verify (+ one settle read where the target has
 * no etag). The verify read is what makes this safe without an etag (AWS): when another writer replaced the document
 * after us, our entries are missing, so we plan again from what is there now and write again, with jittered backoff,
 * a bounded number of times.
 */
export async function reconcileTarget<Doc>(
  driver: TargetDriver<Doc>,
  requests: readonly GrantRequest[],
  options: ReconcileOptions = {},
): Promise<Map<string, GrantOutcome>> {
  // Contention costs rounds: with several instances racing on one target, each round only one writer wins.
  const maxAttempts = options.maxAttempts ?? 8;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const baseDelayMs = options.baseDelayMs ?? 50;
  const outcomes = new Map<string, GrantOutcome>();
  const written = new Map<string, Set<string>>();
  let pending = [...requests];
  const finish = (request: GrantRequest, outcome: GrantOutcome) => {
    outcomes.set(request.key, outcome);
    pending = pending.filter((other) => other !== request);
  };
  const failAll = (error: unknown) => {
    for (const request of [...pending]) finish(request, failure(error, request, [...(written.get(request.key) ?? [])]));
  };

  let current: Doc;
  try {
    current = await driver.read();
  } catch (error) {
    failAll(error);
    return outcomes;
  }
  for (let attempt = 1; pending.length > 0; attempt++) {
    const cycleStart = now();
    let next = current;
    let changed = false;
    // What this round would add; it counts as written only once the write call succeeded.
    const planned = new Map<string, readonly string[]>();
    for (const request of [...pending]) {
      try {
        const plan = driver.plan(next, request);
        const entries = request.action === 'revoke' ? (plan.removed ?? []) : plan.added;
        if (plan.changed && request.simulate) {
          finish(request, { status: 'stale', added: [], removed: [...entries].sort() });
        } else if (plan.changed) {
          next = plan.next;
          changed = true;
          planned.set(request.key, entries);
        } else {
          finish(request, settled(request, [...(written.get(request.key) ?? [])].sort(), plan.present));
        }
      } catch (error) {
        finish(request, failure(error, request, []));
      }
    }
    if (!changed) break;
    if (options.dryRun) {
      for (const request of [...pending]) {
        const entries = [...(planned.get(request.key) ?? [])].sort();
        finish(
          request,
          request.action === 'revoke'
            ? { status: 'planned', added: [], removed: entries }
            : { status: 'planned', added: entries },
        );
      }
      break;
    }
    if (attempt >= maxAttempts) {
      failAll(
        new TargetError(
          `the grant did not stick after ${maxAttempts} writes: another writer keeps replacing this target; find it (CloudTrail / audit logs) or pause it, then re-run`,
          { retryable: true },
        ),
      );
      break;
    }
    let wrote = false;
    try {
      await driver.write(current, next);
      wrote = true;
      for (const [key, added] of planned) written.set(key, new Set([...(written.get(key) ?? []), ...added]));
    } catch (error) {
      if (!(error instanceof WriteConflictError)) {
        failAll(error);
        break;
      }
      await sleep(backoff(attempt, baseDelayMs, random));
    }
    // Without an etag, a writer that read before our write may still overwrite it: wait out such a writer's
    // read-modify-write (twice our own cycle) before the verify read, so one read checks both.
    let window = Math.max(options.settleMs ?? 0, 2 * (now() - cycleStart));
    if (wrote && driver.settle) await sleep(window + Math.round(random() * window));
    try {
      // Verify (after a write) or re-read (after a conflict); the next round plans from what is really there.
      current = await driver.read();
    } catch (error) {
      failAll(error);
      break;
    }
    // Quiet when the target holds exactly what we wrote. If someone else wrote meanwhile (our entries still there),
    // more writers may be in flight: wait a doubled window and look again, at most twice, so sustained contention
    // cannot hold an event forever (a loss after that is what the hourly sweep repairs).
    let seen = JSON.stringify(next);
    for (let check = 0; wrote && driver.settle && check < 2; check++) {
      const latest = JSON.stringify(current);
      if (latest === seen || pending.some((request) => stillMissing(driver, current, request))) break;
      seen = latest;
      window *= 2;
      await sleep(window + Math.round(random() * window));
      try {
        current = await driver.read();
      } catch (error) {
        failAll(error);
        break;
      }
    }
    if (pending.some((request) => stillMissing(driver, current, request))) {
      await sleep(backoff(attempt, baseDelayMs, random));
    }
  }
  return outcomes;
}

function stillMissing<Doc>(driver: TargetDriver<Doc>, current: Doc, request: GrantRequest): boolean {
  try {
    return driver.plan(current, request).changed;
  } catch {
    return true; // the next round reports it
  }
}

/** Full jitter: spreads competing writers apart so they stop overwriting each other. */
function backoff(attempt: number, baseDelayMs: number, random: () => number): number {
  return Math.round(random() * baseDelayMs * 2 ** Math.min(attempt, 6));
}

/** A request that needs no (more) writes: what it wrote in earlier rounds, and what the target already had. */
function settled(request: GrantRequest, written: readonly string[], present: readonly string[]): GrantOutcome {
  if (request.action === 'revoke') {
    return { status: written.length > 0 ? 'revoked' : 'unchanged', added: [], removed: written, present: [] };
  }
  const already = present.filter((item) => !written.includes(item));
  return { status: written.length > 0 ? 'granted' : 'unchanged', added: written, present: already };
}

function failure(error: unknown, request: GrantRequest, done: readonly string[]): GrantOutcome {
  const entries = request.action === 'revoke' ? { added: [], removed: done } : { added: done };
  if (error instanceof UnsafePlanError) {
    return {
      status: error.code === 'does_not_fit' ? 'does-not-fit' : 'conflict',
      ...entries,
      reason: error.summary,
      remedies: error.remedies,
    };
  }
  const typed = asIdentitySyncError(error);
  return { status: 'failed', ...entries, reason: typed.message, retryable: typed.retryable };
}
