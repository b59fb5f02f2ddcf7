import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { EventBridgeEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type QueuedEvent, queuedEventSchema } from '../../shared/intake/queued-event.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { processQueued } from '../common/request-flows.ts';
import type { HandlerDeps } from './handler-deps.ts';

export type ReconcilerInput = EventBridgeEvent<string, unknown> | SQSEvent;

export class RetryableFailureError extends Error {
  constructor(readonly reports: readonly EventReport[]) {
    super('some targets failed with retryable errors; the event will be retried');
    this.name = 'RetryableFailureError';
  }
}

/**
 * EventBridge target (one event) or SQS consumer (a batch). Events for the same role are merged into one write.
 * Retryable failures (throttling, a writer that keeps replacing the policy) are retried by the platform: SQS through
 * batchItemFailures, EventBridge through the Lambda async retries and then its dead-letter queue.
 */
export function createReconcilerHandler(deps: HandlerDeps) {
  return middy<ReconcilerInput, SQSBatchResponse | { reports: EventReport[] }>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (input) => {
      const runtime = await deps.runtime();
      const messages =
        'Records' in input
          ? input.Records.map((r) => ({ id: r.messageId, body: safeJson(r.body) }))
          : [{ id: input.id, body: input }];
      const queued: Array<{ id: string; event: QueuedEvent }> = [];
      for (const message of messages) {
        // EventBridge -> SQS delivers the whole envelope; the detail is what we published.
        const body = message.body as { detail?: unknown } | undefined;
        const parsed = queuedEventSchema.safeParse(body?.detail ?? body);
        if (parsed.success) queued.push({ id: message.id, event: parsed.data });
        else
          deps.logger.error('dropping a malformed event (not retried)', {
            messageId: message.id,
            issues: parsed.error.issues.slice(0, 5),
          });
      }
      const { reports, retry } = await processQueued(
        runtime,
        queued.map((q) => q.event),
        deps.logger,
      );
      if ('Records' in input) {
        return {
          batchItemFailures: queued.filter((q) => retry.has(q.event.webhookId)).map((q) => ({ itemIdentifier: q.id })),
        };
      }
      if (retry.size > 0) throw new RetryableFailureError(reports); // Lambda retries, then the DLQ
      return { reports };
    });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
