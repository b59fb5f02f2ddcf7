import pLimit from 'p-limit';
import { type Config, componentTableFrom } from '../config.ts';
import { IdentitySyncError } from '../errors.ts';
import type { Deployment, DeploymentEventType } from '../intake/deployment.ts';
import { selectComponents } from '../plan/components.ts';
import { assertIssuer, createAllowlist } from '../plan/guardrails.ts';
import { type DesiredGrant, desiredGrant } from '../plan/subjects.ts';
import { createAllowlists, resolveTargets, type Target } from '../plan/targets.ts';
import { type EventReport, summarizeDeployment, type TargetResult } from '../report/outcome.ts';
import type { GrantOutcome, GrantRequest, ReconcileOptions } from './reconcile-target.ts';
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
}

let batchSequence = 0;

interface Pending {
  readonly target: Target;
  readonly handle: TargetHandle;
  readonly requests: GrantRequest[];
}

/**
 * Runs a batch of Deployment events through the pipeline: resolve targets (allowlists enforced), compute each grant,
 * group requests by target so N events on one role cost one write, reconcile targets concurrently, and return one
 * report per event, in order. Nothing here throws for a single bad event or target: it becomes a result.
 */
export async function processBatch(items: readonly BatchItem[], options: BatchOptions): Promise<EventReport[]> {
  const { config } = options;
  const table = componentTableFrom(config);
  const allowlists = createAllowlists(config);
  const issuerAllowed = config.allowedIssuers ? createAllowlist(config.allowedIssuers) : () => true;
  const groups = new Map<string, Pending>();
  // Request keys must be unique across batches that share lanes.
  const batchId = ++batchSequence;
  const slots: Array<Array<{ target: Target; key: string | undefined; result?: TargetResult }>> = [];

  items.forEach((item, index) => {
    const row: (typeof slots)[number] = [];
    slots.push(row);
    // A deleted Deployment's entries are removed only with prune; without it they are read and reported as stale.
    const deleted = item.type === 'deployment.deleted';
    for (const resolved of resolveTargets(config, item.deployment, allowlists)) {
      const { target } = resolved;
      const handle = resolved.denied === undefined ? options.targets.bind(target) : undefined;
      if (deleted && handle === undefined) continue;
      if (resolved.denied !== undefined) {
        row.push({
          target,
          key: undefined,
          result: result(target, { status: 'denied', added: [], reason: resolved.denied }),
        });
        continue;
      }
      if (handle === undefined) {
        const reason = `this function does not manage ${target.cloud.toUpperCase()} targets; deploy the ${target.cloud} function for it`;
        row.push({ target, key: undefined, result: result(target, { status: 'denied', added: [], reason }) });
        continue;
      }
      let request: GrantRequest;
      try {
        const key = `${batchId}:${index}|${laneKey(target)}`;
        const grant = grantFor(config, table, item.deployment, target, resolved.componentSets);
        request = deleted
          ? { key, grant, issuer: undefined, action: 'revoke', simulate: !config.prune }
          : { key, grant, issuer: handle.needsIssuer ? issuerFor(item.deployment, issuerAllowed) : undefined };
      } catch (error) {
        const reason = error instanceof IdentitySyncError ? error.message : String(error);
        row.push({ target, key: undefined, result: result(target, { status: 'failed', added: [], reason }) });
        continue;
      }
      const groupKey = laneKey(target);
      const group = groups.get(groupKey) ?? { target, handle, requests: [] };
      group.requests.push(request);
      groups.set(groupKey, group);
      row.push({ target, key: request.key });
    }
  });

  const outcomes = new Map<string, GrantOutcome>();
  const limit = pLimit(options.concurrency ?? 4);
  await Promise.all(
    [...groups.values()].map(({ target, handle, requests }) =>
      limit(async () => {
        const reconcileOptions = reconcileOptionsFor(target, options);
        const found = options.lanes
          ? await options.lanes.run(laneKey(target), handle, requests, reconcileOptions)
          : await handle.reconcile(requests, reconcileOptions);
        for (const [key, outcome] of found) outcomes.set(key, outcome);
      }),
    ),
  );

  return items.map((item, index) => ({
    eventId: item.eventId,
    type: item.type,
    deployment: summarizeDeployment(item.deployment),
    dryRun: options.dryRun === true,
    results: (slots[index] ?? []).map((slot) => {
      if (slot.result !== undefined) return slot.result;
      const outcome = slot.key === undefined ? undefined : outcomes.get(slot.key);
      return result(slot.target, outcome ?? { status: 'failed', added: [], reason: 'not processed' });
    }),
  }));
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

function grantFor(
  config: Config,
  table: ReturnType<typeof componentTableFrom>,
  deployment: Deployment,
  target: Target,
  componentSets: ReadonlyArray<readonly string[] | undefined>,
): DesiredGrant {
  const selection = {
    airflowVersion: deployment.airflowVersion,
    astroRuntimeVersion: deployment.astroRuntimeVersion,
    remoteExecution: deployment.remoteExecution?.enabled,
  };
  const components = [
    ...new Set(componentSets.flatMap((set) => selectComponents({ ...selection, components: set }, table))),
  ];
  return desiredGrant({
    namespace: deployment.namespace,
    table,
    selection: { ...selection, components },
    // Only IAM trust policies take patterns; GCP members and Azure subjects must be exact.
    ...(target.cloud === 'aws'
      ? { wildcard: { requested: config.wildcard.enabled, clusterType: deployment.type, strict: false } }
      : {}),
  });
}

function issuerFor(deployment: Deployment, allowed: (issuer: string) => boolean): string {
  const issuer = deployment.oidcIssuerUrl;
  if (issuer === undefined) {
    throw new IdentitySyncError('invalid_input', "the Deployment has no oidcIssuerUrl (its cluster's OIDC issuer)");
  }
  assertIssuer(issuer, 'oidcIssuerUrl');
  if (!allowed(issuer)) {
    throw new IdentitySyncError('invalid_input', `the issuer ${issuer} is not in allowedIssuers`);
  }
  return issuer;
}

function result(target: Target, outcome: GrantOutcome): TargetResult {
  return {
    cloud: target.cloud,
    target: target.id,
    status: outcome.status,
    added: outcome.added,
    removed: outcome.removed ?? [],
    present: outcome.present ?? [],
    ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
    ...(outcome.remedies === undefined ? {} : { remedies: outcome.remedies }),
    ...(outcome.retryable === undefined ? {} : { retryable: outcome.retryable }),
  };
}
