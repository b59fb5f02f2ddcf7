import type { Deployment } from '../intake/deployment.ts';
import { aboveThreshold as aboveThresholdOf, type TargetCapacity, targetCapacities } from '../report/capacity.ts';
import type { EventReport, TargetResult } from '../report/outcome.ts';
import { type BatchItem, type BatchOptions, processBatch } from './process-batch.ts';
import { staleCleanup } from './stale-cleanup.ts';

/** The Astro API as the sweep and the poller see it: Deployments, newest-updated first, and those it could not read. */
export interface DeploymentLister {
  list(options: { updatedSince?: string }): Promise<DeploymentList>;
}

export interface DeploymentList {
  readonly deployments: readonly Deployment[];
  readonly invalid: ReadonlyArray<{ id?: string; reason: string }>;
  /** Seen in one consistent pass (see AstroList.complete); without it nothing is taken for stale. */
  readonly complete?: boolean;
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
  /** Sweep: the targets at or above capacity.warnAtPercent, fullest first (the summary lists them every run). */
  readonly aboveThreshold?: readonly TargetCapacity[];
  /** The threshold `aboveThreshold` was judged by. */
  readonly warnAtPercent?: number;
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
 * target costs reads only), then find entries of ours that no Deployment needs on that target any more, and remove
 * them (prune) or list them (default). Removal needs a consistent view (see staleCleanup): any doubt is a report.
 */
export async function runSweep(input: {
  lister: DeploymentLister;
  batch: BatchOptions;
  runId: string;
  /** The workspaces to reconcile, per platform (absent: all); the whole list still decides what is stale. */
  workspaceIds?: readonly string[] | undefined;
  softwareWorkspaceIds?: readonly string[] | undefined;
}): Promise<RunSummary> {
  const first = await input.lister.list({});
  const { deployments, invalid } = first;
  const inScope = deployments.filter((d) => {
    const scope = d.software === undefined ? input.workspaceIds : input.softwareWorkspaceIds;
    return scope === undefined || (d.workspaceId !== undefined && scope.includes(d.workspaceId));
  });
  const items: BatchItem[] = inScope.map((deployment) => ({
    eventId: `${input.runId}:${deployment.id}`,
    type: 'deployment.updated',
    deployment,
  }));
  const reports = await processBatch(items, input.batch);
  const cleanup = await staleCleanup({ batch: input.batch, lister: input.lister, first, inScope });
  const { warnAtPercent } = input.batch.config.capacity;
  const aboveThreshold = targetCapacities([...reports.flatMap((report) => report.results), ...cleanup]).filter(
    (entry) => aboveThresholdOf(entry.usage, warnAtPercent),
  );
  return {
    runId: input.runId,
    task: 'sweep',
    deployments: items.length,
    reports,
    cleanup,
    invalid,
    aboveThreshold,
    warnAtPercent,
  };
}
