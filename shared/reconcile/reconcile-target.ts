import type { Deadline } from '../deadline.ts';
import { LeaseChangedError, OutOfTimeError, TargetError, WriteConflictError, WriteRefusedError } from '../errors.ts';
import type { ForeignEntry } from '../plan/ownership.ts';
import type { TargetUsage } from '../report/outcome.ts';
import {
  type Blocked,
  type Findings,
  failure,
  type GrantOutcome,
  type GrantRequest,
  groupsOf,
  settled,
  withFindings,
  withUsage,
} from './grant-outcomes.ts';

export type { Blocked, GrantOutcome, GrantRequest };

export interface DriverPlan<Doc> {
  readonly changed: boolean;
  /** What this plan adds, in the target's own terms (subjects, members, credential names). */
  readonly added: readonly string[];
  /** What a revoke takes back (this tool's own entries of the namespace). */
  readonly removed?: readonly string[];
  /** What the request needs and the target already had (reported so a person sees the whole grant). */
  readonly present: readonly string[];
  readonly next: Doc;
  /** What writing `next` does besides the request (see GrantPlan.notes); reported once the write succeeded. */
  readonly notes?: readonly string[];
  /** Entries the target refuses whatever is written (an explicit Deny): not written, the request ends `blocked`. */
  readonly blocked?: Blocked;
  /** What a person should decide about on the target, reported whether or not anything is written. */
  readonly warnings?: readonly string[];
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
  write(current: Doc, next: Doc): Promise<WriteResult | undefined>;
  /**
   * A dry run's stand-in for `write`: checks, without changing anything, what the write would need (the IAM OIDC
   * provider a new statement names) and throws as `write` would; answers what the write would also do.
   */
  preview?(current: Doc, next: Doc): Promise<WriteResult | undefined>;
  /** Namespaces that have entries this tool owns on the target (for the sweep's stale check). */
  owned(current: Doc): ReadonlySet<string>;
  /** How full the document is (see TargetKind.usage); outcomes carry it from the first and the last read. */
  usage?(current: Doc): TargetUsage;
  /** Entries a person added that name a namespace (see TargetKind.foreign); `audit` shows them. */
  foreign?(current: Doc): readonly ForeignEntry[];
  /**
   * The target has no optimistic concurrency (IAM trust policies have no etag): a writer that read before our write
   * can still overwrite it after our verify read. After a verified write, wait out such a writer's read-modify-write
   * (twice our own cycle) and check once more; a loss then is written again like any other.
   */
  readonly settle?: boolean;
}

/** What a write did besides the document itself, for the people reading the report. */
export interface WriteResult {
  /** One sentence each, e.g. "created the IAM OIDC provider for https://...". */
  readonly notes: readonly string[];
}

export interface ReconcileOptions {
  readonly dryRun?: boolean;
  /** Read-plan-write rounds before a grant that keeps disappearing is reported as failed. */
  readonly maxAttempts?: number;
  /** Writes the cloud refused in a row (WriteRefusedError: throttled, 5xx) before the event fails as retryable. */
  readonly maxRefusals?: number;
  /** Lower bound of the settle wait for drivers that need it (default 0: twice the measured cycle). */
  readonly settleMs?: number;
  /**
   * When the invocation's work must be done: no write starts after it (the request is handed back, retryable), and
   * settle waits and backoffs end by it.
   */
  readonly deadline?: Deadline;
  readonly now?: () => number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * All settle waits of one target together (its windows double per check, at most three per round): without a cap,
 * settleMs at its maximum meant 14 windows, 420 s, for one event, more than any function timeout.
 */
export const MAX_SETTLE_TOTAL_MS = 60_000;

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
  const rawSleep = options.sleep ?? defaultSleep;
  const { deadline } = options;
  // Every wait ends by the deadline: what is left after it is handed back rather than killed with the invocation.
  const sleep = (ms: number) => rawSleep(deadline === undefined ? ms : deadline.cap(ms));
  let settleLeft = MAX_SETTLE_TOTAL_MS;
  const settle = (ms: number) => {
    const wait = Math.min(ms, settleLeft);
    settleLeft -= wait;
    return sleep(wait);
  };
  const random = options.random ?? Math.random;
  const baseDelayMs = options.baseDelayMs ?? 50;
  // The SDK's standard mode tried a write 3 times; re-reading between them keeps that budget for a throttled target.
  const maxRefusals = options.maxRefusals ?? 3;
  let refusals = 0;
  const outcomes = new Map<string, GrantOutcome>();
  const written = new Map<string, Set<string>>();
  const notes = new Map<string, string[]>();
  let pending = [...requests];
  // What the latest plan of each request found on the target besides its entries: reported however it ends.
  const findings = new Map<string, Findings>();
  const finish = (request: GrantRequest, outcome: GrantOutcome) => {
    const noted = notes.get(request.key);
    const found = findings.get(request.key);
    outcomes.set(request.key, withFindings(noted === undefined ? outcome : { ...outcome, notes: noted }, found));
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
  const before = driver.usage?.(current);
  // The document usage is reported from: what was last read, what a dry run would write; unknown once a read failed.
  let known: Doc | undefined = current;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const cycleStart = now();
    let next = current;
    let changed = false;
    // What this round would add; it counts as written only once the write call succeeded.
    const planned = new Map<string, readonly string[]>();
    const plannedNotes = new Map<string, readonly string[]>();
    for (const members of groupsOf(pending)) {
      // All or nothing per group: plan every member on top of the others; any failure undoes the whole group.
      const before = next;
      const plans: Array<{ request: GrantRequest; plan: DriverPlan<Doc> }> = [];
      let refused: { request: GrantRequest; error: unknown } | undefined;
      for (const request of members) {
        try {
          const plan = driver.plan(next, request);
          plans.push({ request, plan });
          findings.set(request.key, { blocked: plan.blocked, warnings: plan.warnings });
          if (plan.changed && !request.simulate) next = plan.next;
        } catch (error) {
          refused = { request, error };
          break;
        }
      }
      if (refused !== undefined) {
        next = before;
        for (const request of members) finish(request, failure(refused.error, request, [], refused.request));
        continue;
      }
      for (const { request, plan } of plans) {
        const entries = request.action === 'revoke' ? (plan.removed ?? []) : plan.added;
        if (plan.changed && request.simulate) {
          finish(request, { status: 'stale', added: [], removed: [...entries].sort() });
        } else if (plan.changed) {
          changed = true;
          planned.set(request.key, entries);
          if (plan.notes !== undefined) plannedNotes.set(request.key, plan.notes);
        } else {
          finish(request, settled(request, [...(written.get(request.key) ?? [])].sort(), plan.present));
        }
      }
    }
    if (!changed) break;
    if (options.dryRun) {
      known = next;
      // A dry run that says "planned" must mean the write would be accepted: run the write's own checks.
      let previewed: WriteResult | undefined;
      try {
        previewed = await driver.preview?.(current, next);
      } catch (error) {
        failAll(error);
        break;
      }
      for (const request of [...pending]) {
        const said = [...(plannedNotes.get(request.key) ?? []), ...(previewed?.notes ?? [])];
        if (said.length > 0) notes.set(request.key, [...new Set(said)]);
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
    if (deadline?.expired()) {
      failAll(
        new OutOfTimeError(
          'the invocation ran out of time before this write; nothing was written, and it is done on the next delivery or run',
        ),
      );
      break;
    }
    let wrote = false;
    // The lease just became ours (see reconcileLeased): nobody is racing us any more, so re-read at once.
    let leased = false;
    try {
      const done = await driver.write(current, next);
      wrote = true;
      refusals = 0;
      for (const [key, added] of planned) {
        written.set(key, new Set([...(written.get(key) ?? []), ...added]));
        // A round repeated after a lost race plans the same notes again: say each once.
        const said = [...(notes.get(key) ?? []), ...(plannedNotes.get(key) ?? []), ...(done?.notes ?? [])];
        if (said.length > 0) notes.set(key, [...new Set(said)]);
      }
    } catch (error) {
      if (!(error instanceof WriteConflictError)) {
        failAll(error);
        break;
      }
      if (error instanceof WriteRefusedError && ++refusals >= maxRefusals) {
        failAll(new TargetError(error.message, { retryable: true, cause: error }));
        break;
      }
      leased = error instanceof LeaseChangedError;
      if (!leased) await sleep(backoff(attempt, baseDelayMs, random));
    }
    // Without an etag, a writer that read before our write may still overwrite it: wait out such a writer's
    // read-modify-write (twice our own cycle) before the verify read, so one read checks both.
    let window = Math.max(options.settleMs ?? 0, 2 * (now() - cycleStart));
    if (wrote && driver.settle) await settle(window + Math.round(random() * window));
    try {
      // Verify (after a write) or re-read (after a conflict); the next round plans from what is really there.
      current = await driver.read();
      known = current;
    } catch (error) {
      known = undefined;
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
      await settle(window + Math.round(random() * window));
      try {
        current = await driver.read();
        known = current;
      } catch (error) {
        known = undefined;
        failAll(error);
        break;
      }
    }
    if (!leased && pending.some((request) => stillMissing(driver, current, request))) {
      await sleep(backoff(attempt, baseDelayMs, random));
    }
  }
  return withUsage(outcomes, requests, before, known === undefined ? undefined : driver.usage?.(known));
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
