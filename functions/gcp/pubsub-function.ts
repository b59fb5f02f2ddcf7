import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { RetryLaterError } from '../../shared/errors.ts';
import { parseQueueMessage } from '../../shared/intake/intake.ts';
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
    const messageId = cloudEvent.data?.message?.messageId ?? cloudEvent.id;
    const logger = deps.logger.child({ messageId });
    const parsed = parseQueueMessage('pubsub', cloudEvent.data);
    if (!parsed.ok) {
      logger.error('dropping a malformed message (not retried)', { reason: parsed.reason, issues: parsed.issues });
      return;
    }
    const scoped = logger.child({ webhookId: parsed.value.webhookId });
    const { retry } = await consumeQueued(await deps.runtime(), [{ messageId, event: parsed.value }], scoped);
    if (retry.size > 0) {
      throw new RetryLaterError(
        `event ${parsed.value.webhookId} failed in a retryable way; Pub/Sub will redeliver it`,
        [...retry],
      );
    }
  };
}
