import type { InvocationContext } from '@azure/functions';
import { type QueuedEvent, queuedEventSchema } from '../../shared/intake/queued-event.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { processQueued } from '../common/request-flows.ts';
import { contextLogger, withInvocationLogger } from './azure-logger.ts';
import type { AzureHandlerDeps } from './handler-deps.ts';

/** Thrown so the Functions host delivers the message again and, after maxDequeueCount, moves it to `<queue>-poison`. */
export class RetryableEventError extends Error {
  constructor(
    readonly webhookId: string,
    readonly reports: readonly EventReport[],
  ) {
    super(
      `event ${webhookId} failed in a retryable way (throttling, an ARM outage, the Astro API); it will be retried`,
    );
    this.name = 'RetryableEventError';
  }
}

export type QueueResult = { readonly reports: readonly EventReport[] } | { readonly dropped: string };

/**
 * The host JSON-parses a message that is valid JSON and hands over a string (or bytes) otherwise, so every shape is
 * accepted here and validated the same way.
 */
export function parseQueueMessage(
  message: unknown,
): { ok: true; event: QueuedEvent } | { ok: false; reason: string; issues?: unknown } {
  let value = message;
  if (value instanceof Uint8Array) value = new TextDecoder().decode(value);
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ok: false, reason: 'the message is not JSON' };
    }
  }
  const parsed = queuedEventSchema.safeParse(value);
  if (!parsed.success) {
    return { ok: false, reason: 'the message is not a queued event', issues: parsed.error.issues.slice(0, 5) };
  }
  return { ok: true, event: parsed.data };
}

function metadata(context: InvocationContext): Record<string, unknown> {
  const meta = context.triggerMetadata ?? {};
  return { messageId: meta.id, dequeueCount: meta.dequeueCount };
}

/**
 * Storage queue trigger: one `{webhookId, event}` message per invocation, through the same reconciler as the HTTP
 * routes (and the same per-target lanes, since all functions of the app share the instance's runtime).
 *
 * Retries are the host's: a retryable failure (a target failed with throttling or 5xx after the SDK's retries, the
 * Astro API down, a broken cold start) throws, the message becomes visible again, and after maxDequeueCount (host.json,
 * default 5) it lands in the poison queue with its body intact for a replay. A malformed message can never succeed,
 * so it is logged with its id and completed (dropped) instead of costing five deliveries on its way to the same end.
 */
export function createQueueHandler(deps: AzureHandlerDeps) {
  return (message: unknown, context: InvocationContext): Promise<QueueResult> => {
    const base = contextLogger(context, {
      function: 'reconciler',
      invocationId: context.invocationId,
      ...metadata(context),
    });
    return withInvocationLogger(base, async () => {
      const parsed = parseQueueMessage(message);
      if (!parsed.ok) {
        base.error('dropping a malformed queue message (not retried)', {
          reason: parsed.reason,
          ...(parsed.issues === undefined ? {} : { issues: parsed.issues }),
        });
        return { dropped: parsed.reason };
      }
      const { webhookId, event } = parsed.event;
      const logger = base.with({ webhookId, deploymentId: event.data.deploymentId });
      return withInvocationLogger(logger, async () => {
        const runtime = await deps.runtime();
        const { reports, retry } = await processQueued(runtime, [parsed.event], logger);
        if (retry.has(webhookId)) {
          logger.warn('event failed in a retryable way; the host will deliver it again');
          throw new RetryableEventError(webhookId, reports);
        }
        return { reports };
      });
    });
  };
}
