import * as z from 'zod/mini';
import '../zod-english.ts';
import { type QueuedEvent, queuedEventSchema } from './queued-event.ts';

/**
 * The envelopes a queued event travels in on each cloud, validated with zod before the event inside is: an SQS
 * record whose body is the EventBridge envelope (rule target), a Pub/Sub push CloudEvent whose message data is
 * base64, a Storage queue message the Functions host hands over (decoded from base64, JSON-parsed when it is JSON),
 * and the scheduler payloads. Every failure is a reason a person can read in the log: a malformed message is never
 * retried, because delivering it again cannot fix it.
 */

/** What the webhook publishes and the EventBridge rule matches (infra/aws/main.tf uses the same two values). */
export const EVENT_SOURCE = 'astro-identity-sync';
export const EVENT_DETAIL_TYPE = 'Astro Deployment Changed';

type QueueSource = 'sqs' | 'pubsub' | 'storage-queue';

type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string; readonly issues?: z.core.$ZodIssue[] };

const eventBridgeEnvelope = z.object({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.literal(EVENT_DETAIL_TYPE),
  detail: z.unknown(),
});

const pubSubPush = z.object({
  message: z.object({ data: z.base64(), messageId: z.optional(z.string()) }),
  subscription: z.optional(z.string()),
});

function json(text: string, what: string): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, reason: `${what} is not JSON` };
  }
}

function decoded(value: unknown): unknown {
  return value instanceof Uint8Array ? new TextDecoder().decode(value) : value;
}

function check<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): Parsed<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, reason: `${what} is not a queued event`, issues: parsed.error.issues.slice(0, 5) };
}

/** The payload inside a Pub/Sub push CloudEvent's `data`, JSON-decoded. */
function pubSubPayload(data: unknown): Parsed<unknown> {
  const envelope = pubSubPush.safeParse(data);
  if (!envelope.success) {
    return { ok: false, reason: 'the CloudEvent is not a Pub/Sub message', issues: envelope.error.issues.slice(0, 5) };
  }
  return json(Buffer.from(envelope.data.message.data, 'base64').toString('utf8'), 'the Pub/Sub message data');
}

/** One queued event out of the envelope its cloud delivers it in. */
export function parseQueueMessage(source: QueueSource, raw: unknown): Parsed<QueuedEvent> {
  if (source === 'sqs') {
    const body = typeof raw === 'string' ? json(raw, 'the SQS message body') : ({ ok: true, value: raw } as const);
    if (!body.ok) return body;
    const envelope = eventBridgeEnvelope.safeParse(body.value);
    if (!envelope.success) {
      return {
        ok: false,
        reason: `the SQS message is not an EventBridge event from ${EVENT_SOURCE}`,
        issues: envelope.error.issues.slice(0, 5),
      };
    }
    return check(queuedEventSchema, envelope.data.detail, 'the EventBridge detail');
  }
  if (source === 'pubsub') {
    const payload = pubSubPayload(raw);
    return payload.ok ? check(queuedEventSchema, payload.value, 'the Pub/Sub message') : payload;
  }
  // The host JSON-parses a message that is valid JSON and hands over a string (or bytes) otherwise.
  const value = decoded(raw);
  const parsed = typeof value === 'string' ? json(value, 'the queue message') : ({ ok: true, value } as const);
  return parsed.ok ? check(queuedEventSchema, parsed.value, 'the queue message') : parsed;
}

export type ScheduledTask = 'poll' | 'sweep';

const taskSchema = z.object({ task: z.enum(['poll', 'sweep']) });

/** `{"task": "poll" | "sweep"}`: the EventBridge Scheduler input, or a Cloud Scheduler message through Pub/Sub. */
export function parseScheduledTask(source: 'scheduler' | 'pubsub', raw: unknown): Parsed<ScheduledTask> {
  const payload = source === 'pubsub' ? pubSubPayload(raw) : ({ ok: true, value: raw } as const);
  if (!payload.ok) return payload;
  const parsed = taskSchema.safeParse(payload.value);
  if (parsed.success) return { ok: true, value: parsed.data.task };
  return { ok: false, reason: 'expected {"task": "poll"} or {"task": "sweep"}', issues: parsed.error.issues };
}
