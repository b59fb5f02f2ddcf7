import pLimit from 'p-limit';
import type { Config } from '../config.ts';
import { OutOfTimeError } from '../errors.ts';
import type { Deployment, DeploymentEventType } from '../intake/deployment.ts';
import { resolveTargets, type Target } from '../plan/targets.ts';
import { type CapacitySettings, type UsageSlot, warnCrossings } from '../report/capacity.ts';
import { type EventReport, summarizeDeployment, type TargetResult } from '../report/outcome.ts';
import { requestContext, requestsFor } from './grant-requests.ts';
import type { GrantOutcome, GrantRequest, ReconcileOptions } from './reconcile-target.ts';
import type { StaleMarks } from './stale-marks.ts';
import type { TargetHandle, TargetRegistry } from './target-kind.ts';
import type { TargetLanes } from './target-lanes.ts';

export interface BatchItem {
  readonly eventId: string;
  readonly type: DeploymentEventType;
  readonly deployment: Deployment;
}

export interface BatchOptions extends ReconcileOptions {
  readonly config: Config;
  /** The target kinds this function manages; a runtime only registers the clouds it serves. */
  readonly targets: TargetRegistry;
  /** Targets reconciled at once; requests for the same target always share one read-plan-write round. */
  readonly concurrency?: number;
  /**
   * Process-wide lanes, so concurrent batches (concurrent requests on one instance) take turns per target and fold
   * into one write. Without them each batch reconciles on its own.
   */
  readonly lanes?: TargetLanes;
  /**
   * Namespaces and workload identities of the organization's live Deployments. A deletion never revokes one of them:
   * its owner comes from the payload, and a forged or confused deletion must not take a live Deployment's access.
   */
  readonly inUse?: ReadonlySet<string>;
  /**
   * Aborted when the invocation must stop (the edge times it from the deadline): the batch returns at once with what
   * finished, and every target still in flight or waiting is reported failed and retryable, so its event is handed
   * back instead of dying with the invocation. Work already in flight is not undone (every step is idempotent).
   */
  readonly signal?: AbortSignal;
  /** The sweep's memory of stale entries across runs (see stale-marks.ts); needed by `pruneGraceMinutes`. */
  readonly staleMarks?: StaleMarks;
}

/** Below this much time left a target is not started: one read, a write and a verify read need at least this. */
export const MIN_TARGET_MS = 1_000;

let batchSequence = 0;

/** Results name their kind only when a cloud's target is not its usual one (principal trust, project roles...). */
const TARGET_KIND_DEFAULT: Record<Target['cloud'], Target['kind']> = {
  aws: 'aws-role',
  gcp: 'gcp-service-account',
  azure: 'azure-identity',
};

interface Pending {
  readonly target: Target;
  readonly handle: TargetHandle;
  readonly requests: GrantRequest[];
}

interface Slot {
  readonly target: Target;
  readonly dr: boolean;
  readonly key: string | undefined;
  readonly result?: TargetResult;
}

/**
 * Runs a batch of Deployment events through the pipeline: resolve targets (allowlists enforced), compute each grant
 * (per cluster: the primary, and the DR one when the Deployment has it), group requests by target so N events on one
 * role cost one write, reconcile targets concurrently, and return one report per event, in order. Nothing here
 * throws for a single bad event or target: it becomes a result.
 */
export async function processBatch(items: readonly BatchItem[], options: BatchOptions): Promise<EventReport[]> {
  const { config } = options;
  const context = requestContext(config);
  const groups = new Map<string, Pending>();
  // Request keys must be unique across batches that share lanes.
  const batchId = ++batchSequence;
  const slots: Slot[][] = [];

  items.forEach((item, index) => {
    const row: Slot[] = [];
    slots.push(row);
    // A deleted Deployment's entries are removed only with prune; without it they are read and reported as stale.
    const deleted = item.type === 'deployment.deleted';
    for (const resolved of resolveTargets(config, item.deployment, context.allowlists)) {
      const { target } = resolved;
      const handle = resolved.denied === undefined ? options.targets.bind(target) : undefined;
      if (deleted && handle === undefined) continue;
      const refuse = (reason: string, status: 'denied' | 'failed' = 'denied', dr = false) =>
        row.push({ target, dr, key: undefined, result: result(target, { status, added: [], reason }, dr) });
      if (resolved.denied !== undefined) {
        // A denied DR identity is reported as DR, so a reader does not take it for the primary grant.
        refuse(resolved.denied, 'denied', resolved.clusters.length === 1 && resolved.clusters[0] === 'dr');
        continue;
      }
      if (handle === undefined) {
        refuse(
          `this function does not manage ${target.cloud.toUpperCase()} targets; deploy the ${target.cloud} function for it`,
        );
        continue;
      }
      const parts = requestsFor(context, {
        key: `${batchId}:${index}|${target.kind}|${target.id}`,
        deployment: item.deployment,
        target,
        handle,
        clusters: resolved.clusters,
        componentSets: resolved.componentSets,
        deleted,
        inUse: options.inUse,
      });
      for (const part of parts) {
        if ('refused' in part) {
          refuse(part.refused, part.status, part.dr);
          continue;
        }
        const groupKey = `${target.kind}|${target.id}`;
        const group = groups.get(groupKey) ?? { target, handle, requests: [] };
        group.requests.push(part.request);
        groups.set(groupKey, group);
        row.push({ target, dr: part.dr, key: part.request.key });
      }
    }
  });

  const outcomes = new Map<string, GrantOutcome>();
  const limit = pLimit(options.concurrency ?? 4);
  const { deadline, signal } = options;
  const work = Promise.all(
    [...groups.values()].map(({ target, handle, requests }) =>
      limit(async () => {
        if (signal?.aborted || deadline?.expired(MIN_TARGET_MS)) {
          for (const request of requests) outcomes.set(request.key, outOfTime('before this target was started'));
          return;
        }
        const reconcileOptions = reconcileOptionsFor(target, options);
        const found = options.lanes
          ? await options.lanes.run(laneKey(target), handle, requests, reconcileOptions)
          : await handle.reconcile(requests, reconcileOptions);
        // Past the stop, the answer was already given without this target; a late outcome must not change it.
        if (signal?.aborted) return;
        for (const [key, outcome] of found) outcomes.set(key, outcome);
      }),
    ),
  );
  await (signal === undefined ? work : Promise.race([work, aborted(signal)]));
  const unfinished = outOfTime('while this target was being reconciled');

  const rows = slots.map((row) =>
    row.map((slot): UsageSlot => {
      if (slot.result !== undefined) return { target: slot.target, result: slot.result, before: undefined };
      const outcome = slot.key === undefined ? undefined : outcomes.get(slot.key);
      const missing = signal?.aborted ? unfinished : { status: 'failed' as const, added: [], reason: 'not processed' };
      return {
        target: slot.target,
        result: result(slot.target, outcome ?? missing, slot.dr),
        before: outcome?.usageBefore,
      };
    }),
  );
  const results = warnCrossings(rows, capacitySettings(config));
  return items.map((item, index) => ({
    eventId: item.eventId,
    type: item.type,
    deployment: summarizeDeployment(item.deployment),
    dryRun: options.dryRun === true,
    results: results[index] ?? [],
  }));
}

/** The capacity threshold and what the config already does about a full target (see capacityRemedies). */
export function capacitySettings(config: Config): CapacitySettings {
  return {
    warnAtPercent: config.capacity.warnAtPercent,
    useLiveQuota: config.aws.useLiveQuota,
    wildcard: config.wildcard.enabled,
  };
}

function outOfTime(when: string): GrantOutcome {
  const error = new OutOfTimeError(`the invocation ran out of time ${when}; it is done on the next delivery or run`);
  return { status: 'failed', added: [], reason: error.message, retryable: true };
}

/** Resolves once the signal is aborted (never, if it never is). */
function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * One lane per cloud resource: kinds that write the same document (a role's trust policy) must take turns, so the
 * key names the resource, not the kind.
 */
function laneKey(target: Target): string {
  return `${target.cloud}|${target.id}`;
}

/** Per-target reconcile options: the configured quiet window applies to IAM roles, the one target without an etag. */
export function reconcileOptionsFor(target: Target, options: BatchOptions): ReconcileOptions {
  if (target.cloud !== 'aws' || options.settleMs !== undefined) return options;
  return { ...options, settleMs: options.config.aws.settleMs };
}

function result(target: Target, outcome: GrantOutcome, dr: boolean): TargetResult {
  return {
    cloud: target.cloud,
    target: target.id,
    ...(target.kind === TARGET_KIND_DEFAULT[target.cloud] ? {} : { kind: target.kind }),
    ...(dr ? { dr: true } : {}),
    status: outcome.status,
    added: outcome.added,
    removed: outcome.removed ?? [],
    present: outcome.present ?? [],
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...(outcome.remedies === undefined ? {} : { remedies: outcome.remedies }),
    ...(outcome.retryable === undefined ? {} : { retryable: outcome.retryable }),
    ...(outcome.notes === undefined ? {} : { notes: outcome.notes }),
    ...(outcome.blocked === undefined ? {} : { blocked: outcome.blocked }),
    ...(outcome.usage === undefined ? {} : { usage: outcome.usage }),
  };
}
