import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { parseScheduledTask } from '../../shared/intake/intake.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import { runScheduledTask } from '../common/scheduled-task.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';
import type { MessagePublishedData } from './pubsub-function.ts';

/**
 * Cloud Scheduler publishes `{"task": "poll"}` (every 5 minutes) or `{"task": "sweep"}` (hourly) to a topic that
 * triggers this function. A malformed message is acknowledged and logged; a failed run throws so Pub/Sub retries it.
 */
export function createGcpScheduleFunction(deps: GcpHandlerDeps): CloudEventFunction<MessagePublishedData> {
  return async (cloudEvent) => {
    const started = Date.now();
    const task = parseScheduledTask('pubsub', cloudEvent.data);
    if (!task.ok) {
      deps.logger.error('dropping a malformed schedule message (not retried)', { reason: task.reason });
      return;
    }
    const metrics = deps.metrics(deps.logger);
    try {
      const runtime = await deps.runtime();
      const timeoutMs = runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.gcp;
      const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
      await runScheduledTask(runtime, task.value, deps.logger, new Date(), deadline, undefined, metrics);
    } finally {
      metrics.flush();
    }
  };
}
