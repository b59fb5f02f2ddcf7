import type { InvocationContext } from '@azure/functions';
import { RetryLaterError } from '../../shared/errors.ts';
import { parseQueueMessage } from '../../shared/intake/intake.ts';
import { intakeMetrics, type Metrics, record } from '../../shared/report/metrics.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import type { Logger } from '../common/logger.ts';
import { consumeQueued } from '../common/queue-consumer.ts';
import { withInvocation } from './azure-logger.ts';
import type { AzureHandlerDeps } from './handler-deps.ts';

export type QueueResult = { readonly reports: readonly EventReport[] } | { readonly dropped: string };

/**
 * Storage queue trigger: one `{webhookId, event}` message per invocation, through the same consumer as the HTTP
 * routes (and the same per-target lanes, since all functions of the app share the instance's runtime).
 *
 * Retries are the host's: a retryable failure (a target failed with throttling or 5xx after the SDK's retries, the
 * Astro API down, a broken cold start) throws, the message becomes visible again, and after maxDequeueCount (host.json,
 * default 5) it lands in the poison queue with its body intact for a replay. A malformed message can never succeed,
 * so it is logged with its id and completed (dropped) instead of costing five deliveries on its way to the same end.
 */
export function createQueueHandler(deps: AzureHandlerDeps) {
  return (message: unknown, context: InvocationContext): Promise<QueueResult> =>
    withInvocation(context, async () => {
      // The host's clock starts with the invocation, before a cold start.
      const started = Date.now();
      const meta = context.triggerMetadata ?? {};
      const messageId = typeof meta.id === 'string' ? meta.id : context.invocationId;
      const base = deps.logger.child({
        function: 'reconciler',
        invocationId: context.invocationId,
        messageId,
        dequeueCount: meta.dequeueCount,
      });
      const metrics = deps.metrics(base);
      try {
        return await consume(message, messageId, started, base, metrics);
      } finally {
        metrics.flush();
      }
    });

  async function consume(
    message: unknown,
    messageId: string,
    started: number,
    base: Logger,
    metrics: Metrics,
  ): Promise<QueueResult> {
    const parsed = parseQueueMessage('storage-queue', message);
    if (!parsed.ok) {
      record(metrics, intakeMetrics({ received: 1, rejected: ['malformed_message'] }));
      base.error('dropping a malformed queue message (not retried)', {
        reason: parsed.reason,
        issues: parsed.issues,
      });
      return { dropped: parsed.reason };
    }
    const { webhookId, event } = parsed.value;
    const logger = base.child({ webhookId, deploymentId: event.data.deploymentId });
    const runtime = await deps.runtime();
    const timeoutMs = runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.azure;
    const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
    const { reports, retry } = await consumeQueued(runtime, [{ messageId, event: parsed.value }], logger, {
      deadline,
      metrics,
    });
    if (retry.size > 0) {
      logger.warn('event failed in a retryable way; the host will deliver it again');
      throw new RetryLaterError(`event ${webhookId} failed in a retryable way; the host will deliver it again`, [
        messageId,
      ]);
    }
    return { reports };
  }
}
