import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { RetryLaterError } from '../../shared/errors.ts';
import { parseQueueMessage } from '../../shared/intake/intake.ts';
import { intakeMetrics, type Metrics, record } from '../../shared/report/metrics.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import type { Logger } from '../common/logger.ts';
import { consumeQueued } from '../common/queue-consumer.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';

/** The `data` of a Pub/Sub "message published" CloudEvent. */
export interface MessagePublishedData {
  message?: { data?: string; messageId?: string; attributes?: Record<string, string> };
  subscription?: string;
}

/**
 * Pub/Sub-delivered events (webhook intake and processing decoupled, or the poller). Throwing makes Pub/Sub redeliver
 * with its retry policy and finally dead-letter the message; a malformed message is acknowledged and logged, because
 * redelivering it cannot fix it.
 */
export function createGcpPubSubFunction(deps: GcpHandlerDeps): CloudEventFunction<MessagePublishedData> {
  return async (cloudEvent) => {
    // The platform's clock starts with the request, before a cold start.
    const started = Date.now();
    const messageId = cloudEvent.data?.message?.messageId ?? cloudEvent.id;
    const logger = deps.logger.child({ messageId });
    const metrics = deps.metrics(logger);
    try {
      await consume(cloudEvent.data, messageId, started, logger, metrics);
    } finally {
      metrics.flush();
    }
  };

  async function consume(
    data: MessagePublishedData | undefined,
    messageId: string,
    started: number,
    logger: Logger,
    metrics: Metrics,
  ): Promise<void> {
    const parsed = parseQueueMessage('pubsub', data);
    if (!parsed.ok) {
      record(metrics, intakeMetrics({ received: 1, rejected: ['malformed_message'] }));
      logger.error('dropping a malformed message (not retried)', { reason: parsed.reason, issues: parsed.issues });
      return;
    }
    const scoped = logger.child({ webhookId: parsed.value.webhookId });
    const runtime = await deps.runtime();
    const timeoutMs = runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.gcp;
    const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
    const { retry } = await consumeQueued(runtime, [{ messageId, event: parsed.value }], scoped, {
      deadline,
      metrics,
    });
    if (retry.size > 0) {
      throw new RetryLaterError(
        `event ${parsed.value.webhookId} failed in a retryable way; Pub/Sub will redeliver it`,
        [...retry],
      );
    }
  }
}
