import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, EventBridgeEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';

export const EC2_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Ec2', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/aws/${name}`, import.meta.url), 'utf8')) as T;
}

/** A recorded Function URL / HTTP API event, re-signed now so it passes the 5-minute tolerance. */
export function signedHttpEvent(
  fixture: 'function-url-event.json' | 'http-api-event.json',
  secret: string,
  body: string,
  id = `msg_fixture_${Date.now()}`,
): APIGatewayProxyEventV2 {
  const event = load<APIGatewayProxyEventV2>(fixture);
  const signed = signWebhook({ secret, id, body });
  event.headers = {
    ...event.headers,
    'webhook-id': signed['webhook-id'],
    'webhook-timestamp': signed['webhook-timestamp'],
    'webhook-signature': signed['webhook-signature'],
    'content-length': String(Buffer.byteLength(body)),
  };
  event.body = event.isBase64Encoded ? Buffer.from(body).toString('base64') : body;
  return event;
}

type BusEnvelope = EventBridgeEvent<
  string,
  { webhookId: string; event: { data: { deployment: Record<string, unknown> } } }
>;

/** The EventBridge envelope of one of our events, as the rule puts it in the SQS message body. */
function eventBridgeFixture(): BusEnvelope {
  return load('eventbridge-event.json');
}

type SqsFixture = 'sqs-batch.json' | 'sqs-batch-invalid.json';

/**
 * A recorded SQS batch as the event source mapping delivers it, made current: each record gets a fresh receipt handle
 * and timestamps from now, and its md5OfBody recomputed, so a body edited by `rewrite` (given the record's body text
 * and its index) stays consistent with its digest, as SQS guarantees.
 */
export function sqsBatchFixture(fixture: SqsFixture, rewrite?: (body: string, index: number) => string): SQSEvent {
  const event = load<SQSEvent>(fixture);
  const now = Date.now();
  event.Records = event.Records.map((record, index) =>
    resign(record, rewrite?.(record.body, index) ?? record.body, now),
  );
  return event;
}

/**
 * An SQS batch with one record per bus detail (`{webhookId, event}`), each body an envelope like the recorded one,
 * shaped like the records of sqs-batch.json: what the reconciler receives when these events were published.
 */
export function sqsEventFor(details: readonly unknown[], options: { receiveCount?: number } = {}): SQSEvent {
  const [template] = load<SQSEvent>('sqs-batch.json').Records;
  if (template === undefined) throw new Error('sqs-batch.json has no records');
  const now = Date.now();
  return {
    Records: details.map((detail) => {
      const envelope = {
        ...eventBridgeFixture(),
        id: randomUUID(),
        time: `${new Date(now).toISOString().slice(0, 19)}Z`,
      };
      const record = resign({ ...template, messageId: randomUUID() }, JSON.stringify({ ...envelope, detail }), now);
      const count = String(options.receiveCount ?? 1);
      return { ...record, attributes: { ...record.attributes, ApproximateReceiveCount: count } };
    }),
  };
}

function resign(record: SQSRecord, body: string, now: number): SQSRecord {
  return {
    ...record,
    body,
    receiptHandle: `AQEB${randomBytes(96).toString('base64')}`,
    md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
    attributes: {
      ...record.attributes,
      SentTimestamp: String(now - 20),
      ApproximateFirstReceiveTimestamp: String(now),
    },
  };
}
