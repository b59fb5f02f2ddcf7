import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { parseScheduledTask } from '../../shared/intake/intake.ts';
import type { StaleMarks } from '../../shared/reconcile/stale-marks.ts';
import type { RunSummary } from '../../shared/reconcile/sweep.ts';
import { invocationDeadline } from '../common/invocation-deadline.ts';
import type { Runtime } from '../common/runtime.ts';
import { runScheduledTask } from '../common/scheduled-task.ts';
import type { AwsClients } from './aws-adapter.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { type LeaseTable, loading, onFirstUse } from './lease-table.ts';

interface ScheduledResult {
  readonly runId: string;
  readonly task: RunSummary['task'];
  readonly deployments: number;
  readonly results: number;
  readonly cleanup: number;
}

/**
 * EventBridge Scheduler target: `{"task": "poll"}` every 5 minutes, `{"task": "sweep"}` hourly. A failed run throws so
 * the scheduler's retry policy (and the dead-letter queue) see it; the next run catches up either way. A payload that
 * names no task is logged and dropped, as on GCP and Azure: running it again cannot fix it.
 */
export function createScheduledHandler(deps: HandlerDeps<Runtime<AwsClients>>) {
  return middy<unknown, ScheduledResult | { dropped: string }>()
    .use(injectLambdaContext(deps.logger.powertools, { resetKeys: true }))
    .use(logMetrics(deps.metrics.powertools, { throwOnEmptyMetrics: false }))
    .handler(async (input, context) => {
      const task = parseScheduledTask('scheduler', input);
      if (!task.ok) {
        deps.logger.error('dropping a malformed schedule message (not retried)', { reason: task.reason });
        return { dropped: task.reason };
      }
      const runtime = await deps.runtime();
      const deadline = invocationDeadline(context.getRemainingTimeInMillis(), runtime.settings);
      // Only the sweep prunes, so only this function keeps the stale marks (items stale#... of the lease table).
      const marks = staleMarks(runtime.clients.lease);
      const summary = await runScheduledTask(
        runtime,
        task.value,
        deps.logger,
        new Date(),
        deadline,
        marks,
        deps.metrics,
      );
      return {
        runId: summary.runId,
        task: summary.task,
        deployments: summary.deployments,
        results: summary.reports.reduce((n, r) => n + r.results.length, 0),
        cleanup: summary.cleanup.length,
      };
    });
}

/** The sweep's stale marks in the lease table; their code loads on first use, as the table's client does. */
function staleMarks(table: LeaseTable | undefined): StaleMarks | undefined {
  if (table === undefined) return undefined;
  const open = onFirstUse(table, async (client, name) =>
    (await loading(name, import('./dynamodb-stale-marks.ts'))).createDynamoStaleMarks(client, name),
  );
  return { observe: async (keys, now) => (await open()).observe(keys, now) };
}
