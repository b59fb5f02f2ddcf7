import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { UnavailableError } from '../../shared/errors.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../shared/intake/queue-envelopes.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import { withRetries } from '../common/retry.ts';

/** Entries PutEvents did not take, kept to send again. */
class EntriesFailed extends Error {
  constructor(
    readonly entries: readonly PutEventsRequestEntry[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * Publishes verified events to the bus. PutEvents reports failures per entry with HTTP 200, so a call that
 * "succeeded" can still have dropped an event: only the failed entries are sent again (bounded, with backoff). Any
 * failure to publish, a partial one or an SDK error (throttling after its retries, no connection), is an
 * UnavailableError: the webhook answers 503 and the sender retries with the same webhook-id; nothing was lost.
 */
export async function publishEvents(
  client: EventBridgeClient,
  busName: string,
  events: readonly QueuedEvent[],
  options: { attempts?: number; minTimeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  let pending: readonly PutEventsRequestEntry[] = events.map((detail) => ({
    EventBusName: busName,
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: JSON.stringify(detail),
    Resources: [],
  }));
  try {
    await withRetries(
      async () => {
        const failed: PutEventsRequestEntry[] = [];
        let reason = '';
        // PutEvents takes at most 10 entries per call.
        for (let i = 0; i < pending.length; i += 10) {
          const chunk = pending.slice(i, i + 10);
          const response = await client.send(
            new PutEventsCommand({ Entries: chunk }),
            options.signal === undefined ? {} : { abortSignal: options.signal },
          );
          response.Entries?.forEach((entry, index) => {
            const original = chunk[index];
            if (entry.ErrorCode !== undefined && original !== undefined) {
              failed.push(original);
              reason = `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`;
            }
          });
        }
        pending = failed;
        if (failed.length > 0) throw new EntriesFailed(failed, reason);
      },
      {
        retries: (options.attempts ?? 3) - 1,
        minTimeoutMs: options.minTimeoutMs ?? 200,
        maxTimeoutMs: 2_000,
        // The SDK has already retried its own errors; only entries the bus dropped are worth another call here.
        retryable: (error) => error instanceof EntriesFailed,
      },
    );
  } catch (error) {
    // The cause (which entries, which SDK error) goes to the log; the sender only needs to know to retry.
    throw new UnavailableError('The event bus did not accept the event; retry later with the same webhook-id.', {
      cause:
        error instanceof EntriesFailed ? new Error(`${error.entries.length} entries failed: ${error.reason}`) : error,
    });
  }
}
