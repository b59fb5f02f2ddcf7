import type { CloudEventFunction } from '@google-cloud/functions-framework';
import { queuedEventSchema } from '../../shared/intake/queued-event.ts';
import { processQueued } from '../common/request-flows.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';

/** The `data` of a Pub/Sub "message published" CloudEvent. */
export interface MessagePublishedData {
  message?: { data?: string; messageId?: string; attributes?: Record<string, string> };
  subscription?: string;
}

export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
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
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(cloudEvent.data?.message?.data ?? '', 'base64').toString('utf8'));
    } catch {
      payload = undefined;
    }
    const parsed = queuedEventSchema.safeParse(payload);
    if (!parsed.success) {
      logger.error('dropping a malformed message (not retried)', { issues: parsed.error.issues.slice(0, 5) });
      return;
    }
    const runtime = await deps.runtime();
    const { retry } = await processQueued(runtime, [parsed.data], logger.child({ webhookId: parsed.data.webhookId }));
    if (retry.size > 0)
      throw new RetryLaterError(`event ${parsed.data.webhookId} failed in a retryable way; Pub/Sub will redeliver it`);
  };
}
