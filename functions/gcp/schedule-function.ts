import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { parseTask, runScheduledTask } from '../common/scheduled-task.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';
import type { MessagePublishedData } from './pubsub-function.ts';

/**
 * Cloud Scheduler publishes `{"task": "poll"}` (every 5 minutes) or `{"task": "sweep"}` (hourly) to a topic that
 * triggers this function. A malformed message is acknowledged and logged; a failed run throws so Pub/Sub retries it.
 */
export function createGcpScheduleFunction(deps: GcpHandlerDeps): CloudEventFunction<MessagePublishedData> {
  return async (cloudEvent) => {
    let task: ReturnType<typeof parseTask>;
    try {
      task = parseTask(JSON.parse(Buffer.from(cloudEvent.data?.message?.data ?? '', 'base64').toString('utf8')));
    } catch (error) {
      deps.logger.error('dropping a malformed schedule message (not retried)', { reason: (error as Error).message });
      return;
    }
    const runtime = await deps.runtime();
    await runScheduledTask(runtime, task, deps.logger);
  };
}
