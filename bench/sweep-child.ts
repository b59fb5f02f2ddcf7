/**
 * One function instance in its own process for part 5: the GCP runtime built from the environment the parent gives
 * (config, emulator URLs), then the scheduled sweep run through the same code Cloud Scheduler triggers, twice: the
 * first grants everything, the second finds the targets converged. Reports each run's wall time and the process's
 * peak RSS to the parent; the emulators live in the parent, so the memory is the function's own.
 */
import { runScheduledTask } from '../functions/common/scheduled-task.ts';
import { gcpHandlerDeps } from '../functions/gcp/handler-deps.ts';
import { FAILURE_STATUSES } from '../shared/report/outcome.ts';

export interface SweepRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ms: number;
  readonly deployments: number;
  readonly failed: number;
  readonly cleanup: number;
}

export interface SweepChildResult {
  readonly runs: readonly SweepRun[];
  /** After the cold start, before the first sweep. */
  readonly rssBeforeBytes: number;
  readonly peakRssBytes: number;
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('sweep-child.ts must be started with an IPC channel (fork)');
  const deps = gcpHandlerDeps(process.env);
  const runtime = await deps.runtime();
  const rssBeforeBytes = process.memoryUsage().rss;
  const runs: SweepRun[] = [];
  for (let i = 0; i < Number(process.env.BENCH_SWEEP_RUNS ?? 2); i++) {
    const startedAt = Date.now();
    const started = performance.now();
    const summary = await runScheduledTask(runtime, 'sweep', deps.logger);
    const ms = performance.now() - started;
    const failed = summary.reports.flatMap((r) => r.results).filter((r) => FAILURE_STATUSES.has(r.status)).length;
    runs.push({
      startedAt,
      endedAt: Date.now(),
      ms,
      deployments: summary.deployments,
      failed,
      cleanup: summary.cleanup.length,
    });
  }
  // maxRSS is in kilobytes: the high-water mark of the whole process, cold start included.
  const result: SweepChildResult = { runs, rssBeforeBytes, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
  send(result, () => process.exit(0));
}

main().catch((error: unknown) => {
  console.error(`sweep child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
