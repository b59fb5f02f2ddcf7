import { componentTableFrom } from '../config.ts';
import type { Deployment } from '../intake/deployment.ts';
import { isDeletedRoleId } from '../plan/aws/principal-trust-planner.ts';
import { desiredGrant } from '../plan/subjects.ts';
import { createAllowlists, resolveTargets, type Target } from '../plan/targets.ts';
import { type EventReport, FAILURE_STATUSES, type TargetResult } from '../report/outcome.ts';
import { type BatchItem, type BatchOptions, processBatch, reconcileOptionsFor } from './process-batch.ts';
import type { GrantRequest } from './reconcile-target.ts';

/** The Astro API as the sweep and the poller see it: Deployments, newest-updated first, and those it could not read. */
export interface DeploymentLister {
  list(options: { updatedSince?: string }): Promise<{
    deployments: readonly Deployment[];
    invalid: ReadonlyArray<{ id?: string; reason: string }>;
  }>;
}

export interface RunSummary {
  readonly runId: string;
  readonly task: 'poll' | 'sweep';
  /** Deployments the run looked at. */
  readonly deployments: number;
  readonly reports: readonly EventReport[];
  /** Entries of Deployments that no longer exist: removed (prune) or left for a person (stale). */
  readonly cleanup: readonly TargetResult[];
  /** Deployments the API returned but that failed validation; never planned. */
  readonly invalid: ReadonlyArray<{ id?: string; reason: string }>;
}

/**
 * Change feed: every Deployment created or updated within the lookback window is reconciled, so a new Deployment is
 * authorized within one polling interval without any webhook. Stateless on purpose: the window is longer than the
 * schedule, so a missed run loses nothing, and a converged target costs one read.
 */
export async function runPoll(input: {
  lister: DeploymentLister;
  batch: BatchOptions;
  now: Date;
  runId: string;
}): Promise<RunSummary> {
  const since = new Date(input.now.getTime() - input.batch.config.poll.lookbackMinutes * 60_000);
  const { deployments, invalid } = await input.lister.list({ updatedSince: since.toISOString() });
  const fresh = deployments.filter((d) => d.updatedAt === undefined || Date.parse(d.updatedAt) >= since.getTime());
  const items: BatchItem[] = fresh.map((deployment) => ({
    eventId: `${input.runId}:${deployment.id}`,
    type:
      deployment.createdAt !== undefined && Date.parse(deployment.createdAt) >= since.getTime()
        ? 'deployment.created'
        : 'deployment.updated',
    deployment,
  }));
  const reports = await processBatch(items, input.batch);
  return { runId: input.runId, task: 'poll', deployments: items.length, reports, cleanup: [], invalid };
}

/**
 * Drift sweep: reconcile every Deployment against every target (a grant removed by hand comes back; a converged
 * target costs reads only), then find namespaces that have our entries but no Deployment any more, and remove them
 * (prune) or list them (default).
 */
export async function runSweep(input: {
  lister: DeploymentLister;
  batch: BatchOptions;
  runId: string;
  workspaceIds?: readonly string[];
}): Promise<RunSummary> {
  const { config } = input.batch;
  const { deployments, invalid } = await input.lister.list({});
  const scope = input.workspaceIds;
  const inScope =
    scope === undefined
      ? deployments
      : deployments.filter((d) => d.workspaceId !== undefined && scope.includes(d.workspaceId));
  const items: BatchItem[] = inScope.map((deployment) => ({
    eventId: `${input.runId}:${deployment.id}`,
    type: 'deployment.updated',
    deployment,
  }));
  const reports = await processBatch(items, input.batch);

  // A namespace or a workload identity is in use while any Deployment of the organization has it, in scope or not.
  const inUse = new Set(
    deployments.flatMap((d) =>
      [d.namespace, d.effectiveWorkloadIdentity, d.effectiveDRWorkloadIdentity].filter((v) => v !== undefined),
    ),
  );
  const targets = new Map<string, Target>();
  const allowlists = createAllowlists(config);
  for (const deployment of inScope) {
    for (const resolved of resolveTargets(config, deployment, allowlists)) {
      if (resolved.denied === undefined && input.batch.targets.manages(resolved.target)) {
        targets.set(`${resolved.target.kind}|${resolved.target.id}`, resolved.target);
      }
    }
  }
  // With an unreadable Deployment in the list, any namespace might still be in use: report, never remove.
  const prune = config.prune && invalid.length === 0;
  const cleanup: TargetResult[] = [];
  for (const target of targets.values()) cleanup.push(...(await cleanupTarget(target, inUse, input, prune)));
  return { runId: input.runId, task: 'sweep', deployments: items.length, reports, cleanup, invalid };
}

// A hand-edited subject may hold anything; only a valid namespace is ever a candidate for removal.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

async function cleanupTarget(
  target: Target,
  inUse: ReadonlySet<string>,
  input: { batch: BatchOptions; runId: string },
  prune: boolean,
): Promise<TargetResult[]> {
  const handle = input.batch.targets.bind(target);
  if (handle === undefined) return [];
  const base = { cloud: target.cloud, target: target.id, present: [], added: [] };
  let owned: ReadonlySet<string>;
  try {
    owned = await handle.owned();
  } catch (error) {
    const reason = `cannot read for the stale check: ${(error as Error).message}`;
    return [{ ...base, status: 'failed', removed: [], reason }];
  }
  const table = componentTableFrom(input.batch.config);
  const byPrincipal = handle.owner === 'principal';
  const requests: GrantRequest[] = [...owned]
    .filter((owner) => !inUse.has(owner) && (byPrincipal || DNS_LABEL.test(owner)))
    .sort()
    .map((owner) => ({
      key: owner,
      // Only the owner matters to a revoke; the components are whatever the table has.
      grant: desiredGrant({
        namespace: byPrincipal ? 'stale' : owner,
        table,
        selection: { components: ['scheduler'] },
      }),
      issuer: undefined,
      ...(byPrincipal ? { principal: owner } : {}),
      action: 'revoke',
      simulate: !prune,
    }));
  if (requests.length === 0) return [];
  const outcomes = await handle.reconcile(requests, reconcileOptionsFor(target, input.batch));
  return requests.map((request) => {
    const outcome = outcomes.get(request.key);
    return {
      ...base,
      status: outcome?.status ?? 'failed',
      removed: outcome?.removed ?? [],
      reason: FAILURE_STATUSES.has(outcome?.status ?? 'failed')
        ? (outcome?.reason ?? 'not processed')
        : byPrincipal
          ? isDeletedRoleId(request.key)
            ? `${request.key} is a deleted role (IAM shows its unique id); it belongs to no Deployment`
            : `workload identity ${request.key} belongs to no Deployment`
          : `namespace ${request.grant.namespace} belongs to no Deployment`,
    };
  });
}
