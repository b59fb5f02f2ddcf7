import type { InvocationContext, Timer } from '@azure/functions';
import type { RunSummary } from '../../shared/reconcile/sweep.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import { runScheduledTask, type ScheduledTask } from '../common/scheduled-task.ts';
import { withInvocation } from './azure-logger.ts';
import type { AzureHandlerDeps } from './handler-deps.ts';

/**
 * Timer trigger for the poller (picks up Deployments nobody announced) or the drift sweep, the same tasks the AWS and
 * GCP schedules run. A failed run throws so the host records a failed invocation; the next tick catches up, so
 * nothing is retried here.
 */
export function createTimerHandler(deps: AzureHandlerDeps, task: ScheduledTask) {
  return (timer: Timer, context: InvocationContext): Promise<RunSummary> =>
    withInvocation(context, async () => {
      const started = Date.now();
      const logger = deps.logger.child({ function: task, invocationId: context.invocationId });
      // A tick missed while the app was stopped runs late once; the lookback window covers the gap.
      if (timer.isPastDue) logger.warn(`${task} is running late`);
      const metrics = deps.metrics(logger);
      try {
        const runtime = await deps.runtime();
        const timeoutMs = runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.azure;
        const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
        return await runScheduledTask(runtime, task, logger, new Date(), deadline, undefined, metrics);
      } finally {
        metrics.flush();
      }
    });
}
