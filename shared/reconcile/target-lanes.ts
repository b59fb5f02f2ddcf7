import type { GrantOutcome, GrantRequest, ReconcileOptions } from './reconcile-target.ts';
import type { TargetHandle } from './target-kind.ts';

interface Waiting {
  readonly requests: readonly GrantRequest[];
  readonly handle: TargetHandle;
  readonly options: ReconcileOptions;
  readonly resolve: (outcomes: Map<string, GrantOutcome>) => void;
}

/**
 * One lane per target within a process: at most one read-plan-write round in flight per target, and everything that
 * queued up meanwhile goes into the next round together, so 20 concurrent events for one service account cost a
 * handful of writes instead of 20 racing ones (GCP answers a race with 409, Azure with 409 per identity).
 */
export class TargetLanes {
  private readonly lanes = new Map<string, Waiting[]>();

  run(
    key: string,
    handle: TargetHandle,
    requests: readonly GrantRequest[],
    options: ReconcileOptions = {},
  ): Promise<Map<string, GrantOutcome>> {
    return new Promise((resolve) => {
      const queue = this.lanes.get(key);
      const waiting: Waiting = { requests, handle, options, resolve };
      if (queue !== undefined) {
        queue.push(waiting);
        return;
      }
      this.lanes.set(key, [waiting]);
      void this.drain(key);
    });
  }

  /** Targets with a round in flight or queued (for tests and diagnostics). */
  get busy(): number {
    return this.lanes.size;
  }

  private async drain(key: string): Promise<void> {
    for (;;) {
      const queue = this.lanes.get(key) ?? [];
      if (queue.length === 0) {
        this.lanes.delete(key);
        return;
      }
      const batch = queue.splice(0);
      // A dry run must never ride along with a real write, and a handle plans only requests of its own kind (a
      // service account's workloadIdentityUser and token-creator grants share the lane): fold each pair separately.
      const rounds = new Map<string, Waiting[]>();
      for (const waiting of batch) {
        const fold = `${waiting.options.dryRun === true}|${waiting.handle.kind}`;
        rounds.set(fold, [...(rounds.get(fold) ?? []), waiting]);
      }
      for (const group of rounds.values()) {
        const first = group[0];
        if (first === undefined) continue;
        const outcomes = await first.handle.reconcile(
          group.flatMap((w) => w.requests),
          first.options,
        );
        for (const waiting of group) {
          waiting.resolve(new Map(waiting.requests.map((r) => [r.key, outcomes.get(r.key) ?? lost()])));
        }
      }
    }
  }
}

function lost(): GrantOutcome {
  return { status: 'failed', added: [], reason: 'not processed', retryable: true };
}
