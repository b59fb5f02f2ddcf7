import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { RunSummary } from '../../shared/reconcile/sweep.ts';
import { parseTask, runScheduledTask } from '../common/scheduled-task.ts';
import type { HandlerDeps } from './handler-deps.ts';

export interface ScheduledResult {
  readonly runId: string;
  readonly task: RunSummary['task'];
  readonly deployments: number;
  readonly results: number;
  readonly cleanup: number;
}

/**
 * EventBridge Scheduler target: `{"task": "poll"}` every 5 minutes, `{"task": "sweep"}` hourly. A failed run throws so
 * the scheduler's retry policy (and the dead-letter queue) see it; the next run catches up either way.
 */
export function createScheduledHandler(deps: HandlerDeps) {
  return middy<unknown, ScheduledResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (input) => {
      const task = parseTask(input);
      const runtime = await deps.runtime();
      const summary = await runScheduledTask(runtime, task, deps.logger);
      return {
        runId: summary.runId,
        task: summary.task,
        deployments: summary.deployments,
        results: summary.reports.reduce((n, r) => n + r.results.length, 0),
        cleanup: summary.cleanup.length,
      };
    });
}
