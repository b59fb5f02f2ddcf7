/**
 * The emulated production route on AWS: EventBridge rule -> SQS queue (visibility timeout, receive counts, redrive)
 * -> Lambda event source mapping with ReportBatchItemFailures, one batch in flight.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeRule } from '../../local/aws-emulator/eventbridge-rule.ts';
import { type EventEntry, startAwsEmulator } from '../../local/aws-emulator/server.ts';
import {
  type DeadLetter,
  SqsEventSourceMapping,
  type SqsEventSourceMappingOptions,
} from '../../local/aws-emulator/sqs-event-source-mapping.ts';
import { SqsQueue } from '../../local/aws-emulator/sqs-queue.ts';

const BUS = 'astro-identity-sync';
const PATTERN = { source: ['astro-identity-sync'], 'detail-type': ['Astro Deployment Changed'] };
const VISIBILITY_MS = 40;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function queues(options: { maxReceiveCount?: number; visibilityTimeoutMs?: number } = {}) {
  const deadLetterQueue = new SqsQueue({ name: 'test-dead-letter' });
  const queue = new SqsQueue({
    name: 'test-events',
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? VISIBILITY_MS,
    redrivePolicy: { deadLetterQueue, maxReceiveCount: options.maxReceiveCount ?? 5 },
  });
  cleanups.push(
    () => queue.close(),
    () => deadLetterQueue.close(),
  );
  return { queue, deadLetterQueue };
}

function mapping(
  queue: SqsQueue,
  invoke: SqsEventSourceMappingOptions['invoke'],
  options: Omit<SqsEventSourceMappingOptions, 'queue' | 'invoke'> = {},
) {
  const esm = new SqsEventSourceMapping({ queue, invoke, batchWindowMs: 5, ...options });
  cleanups.push(() => esm.close());
  return esm;
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(2);
  }
}

function entry(overrides: Partial<EventEntry> = {}): EventEntry {
  return {
    EventBusName: BUS,
    Source: 'astro-identity-sync',
    DetailType: 'Astro Deployment Changed',
    Detail: JSON.stringify({ webhookId: 'msg_1', event: { type: 'deployment.created' } }),
    EventId: 'c3f0b1a2-0000-4000-8000-000000000001',
    ...overrides,
  };
}

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
const ok = async () => ({ batchItemFailures: [] });

describe('EventBridge rule', () => {
  it('forwards entries that match source and detail-type on its bus, as the envelope EventBridge builds', () => {
    const bodies: string[] = [];
    const { EventBusName: _bus, ...onDefaultBus } = entry();
    const rule = new EventBridgeRule({
      name: 'r',
      eventBusName: BUS,
      eventPattern: PATTERN,
      target: (body) => bodies.push(body),
    });
    const sent = rule.deliver([
      entry({ Time: '2026-11-20T10:00:06.000Z' }),
      entry({ EventBusName: `arn:aws:events:us-east-1:123456789012:event-bus/${BUS}`, EventId: 'second' }),
      entry({ Source: 'someone-else' }),
      entry({ DetailType: 'Astro Deployment Deleted' }),
      entry({ EventBusName: 'another-bus' }),
      onDefaultBus,
    ]);
    expect(sent.map((e) => e.id)).toEqual(['c3f0b1a2-0000-4000-8000-000000000001', 'second']);
    const first = JSON.parse(bodies[0] ?? '{}');
    expect(Object.keys(first)).toEqual([
      'version',
      'id',
      'detail-type',
      'source',
      'account',
      'time',
      'region',
      'resources',
      'detail',
    ]);
    expect(first).toEqual({
      version: '0',
      id: 'c3f0b1a2-0000-4000-8000-000000000001',
      'detail-type': 'Astro Deployment Changed',
      source: 'astro-identity-sync',
      account: '123456789012',
      time: '2026-11-20T10:00:06Z',
      region: 'us-east-1',
      resources: [],
      detail: { webhookId: 'msg_1', event: { type: 'deployment.created' } },
    });
    expect(bodies).toHaveLength(2);
  });

  it('matches every listed field (AND), any listed value (OR), and refuses patterns it cannot model', () => {
    const rule = new EventBridgeRule({
      name: 'r',
      eventBusName: 'default',
      eventPattern: { source: ['a', 'b'], region: ['eu-west-1'] },
      region: 'eu-west-1',
      target: () => undefined,
    });
    const sources = (list: string[]) => rule.deliver(list.map((Source) => entry({ Source, EventBusName: '' })));
    expect(sources(['a', 'b', 'c']).map((e) => e.source)).toEqual(['a', 'b']);
    const make = (eventPattern: unknown) => () =>
      new EventBridgeRule({
        name: 'r',
        eventBusName: BUS,
        eventPattern: eventPattern as never,
        target: () => undefined,
      });
    expect(make({ detail: { webhookId: ['x'] } })).toThrow(/not modelled/);
    expect(make({ source: [{ prefix: 'astro' }] })).toThrow(/list of strings/);
    expect(make({ source: [] })).toThrow(/list of strings/);
  });

  it('delivers what the emulated bus accepted from a real PutEvents call, under the EventId it answered', async () => {
    const aws = await startAwsEmulator();
    const client = new EventBridgeClient({
      endpoint: aws.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    cleanups.push(
      () => aws.close(),
      () => client.destroy(),
    );
    const { queue } = queues();
    const rule = new EventBridgeRule({
      name: 'r',
      eventBusName: BUS,
      eventPattern: PATTERN,
      target: (body) => queue.send(body),
    });
    aws.onEvents((entries) => void rule.deliver(entries));
    const detail = JSON.stringify({ webhookId: 'msg_sdk' });
    const answer = await client.send(
      new PutEventsCommand({
        Entries: [
          { EventBusName: BUS, Source: 'astro-identity-sync', DetailType: 'Astro Deployment Changed', Detail: detail },
          { EventBusName: BUS, Source: 'astro-identity-sync', DetailType: 'Something Else', Detail: detail },
        ],
      }),
    );
    await aws.idle();
    const [message, ...others] = queue.messages();
    expect(others).toHaveLength(0);
    const envelope = JSON.parse(message?.body ?? '{}');
    expect(envelope.id).toBe(answer.Entries?.[0]?.EventId);
    expect(envelope.detail).toEqual({ webhookId: 'msg_sdk' });
    expect(message?.md5OfBody).toBe(md5(message?.body ?? ''));
  });
});

describe('SQS queue', () => {
  it('hides a received message for the visibility timeout and gives each receive a new receipt handle', async () => {
    const { queue } = queues();
    const sent = queue.send('{"n":1}');
    expect(sent.md5OfBody).toBe(md5('{"n":1}'));
    const [first] = queue.receive(10);
    expect(first).toMatchObject({ messageId: sent.messageId, body: '{"n":1}', md5OfBody: md5('{"n":1}') });
    expect(first?.attributes.ApproximateReceiveCount).toBe('1');
    expect(queue.receive(10)).toEqual([]);
    expect(queue.size).toBe(1);
    await sleep(VISIBILITY_MS + 5);
    const [second] = queue.receive(10);
    expect(second?.messageId).toBe(sent.messageId);
    expect(second?.attributes.ApproximateReceiveCount).toBe('2');
    expect(second?.attributes.ApproximateFirstReceiveTimestamp).toBe(
      first?.attributes.ApproximateFirstReceiveTimestamp,
    );
    expect(second?.attributes.SentTimestamp).toBe(first?.attributes.SentTimestamp);
    expect(second?.receiptHandle).not.toBe(first?.receiptHandle);
    // Only the latest receipt handle deletes.
    expect(queue.delete(first?.receiptHandle ?? '')).toBe(false);
    expect(queue.delete(second?.receiptHandle ?? '')).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('refuses the bodies and receive sizes SQS refuses', () => {
    const { queue } = queues();
    expect(() => queue.send('')).toThrow(/must not be empty/);
    expect(() => queue.send('x'.repeat(262_145))).toThrow(/shorter than/);
    expect(() => queue.send('a\u0000b')).toThrow(/Invalid characters/);
    expect(() => queue.receive(11)).toThrow(/MaxNumberOfMessages/);
    expect(queue.size).toBe(0);
  });

  it('moves a message to the dead-letter queue on the receive after maxReceiveCount', async () => {
    const { queue, deadLetterQueue } = queues({ maxReceiveCount: 2 });
    const redriven: string[] = [];
    queue.onRedrive((m) => redriven.push(m.messageId));
    const { messageId } = queue.send('poison');
    expect(queue.receive(1)).toHaveLength(1);
    await sleep(VISIBILITY_MS + 5);
    expect(queue.receive(1).map((m) => m.attributes.ApproximateReceiveCount)).toEqual(['2']);
    await sleep(VISIBILITY_MS + 5);
    expect(queue.receive(1)).toEqual([]);
    expect(redriven).toEqual([messageId]);
    expect(queue.size).toBe(0);
    expect(deadLetterQueue.messages()).toEqual([
      expect.objectContaining({ messageId, body: 'poison', receiveCount: 2, deadLetterQueueSourceArn: queue.arn }),
    ]);
  });
});

describe('SQS event source mapping', () => {
  it('invokes with a real-shaped SQSEvent and deletes what succeeded', async () => {
    const { queue } = queues();
    const events: SQSEvent[] = [];
    const esm = mapping(queue, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    });
    const { messageId } = queue.send('{"hello":"world"}', { senderId: 'AIDAEXAMPLE' });
    await esm.idle();
    const [record] = events[0]?.Records ?? [];
    expect(record).toEqual({
      messageId,
      receiptHandle: expect.stringMatching(/^AQEB/),
      body: '{"hello":"world"}',
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {},
      md5OfBody: md5('{"hello":"world"}'),
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:test-events',
      awsRegion: 'us-east-1',
    });
    expect(queue.size).toBe(0);
    expect(esm.invocations).toEqual([{ messageIds: [messageId], receiveCounts: [1], outcome: 'success', failed: [] }]);
  });

  it('batches up to the batch size, in send order, at once when a full batch is visible', async () => {
    const { queue } = queues();
    const esm = mapping(queue, ok, { batchWindowMs: 1000 });
    const ids = Array.from({ length: 25 }, (_, i) => queue.send(`{"n":${i}}`).messageId);
    await until(() => esm.invocations.length === 2);
    // Two full batches went at once; the remaining 5 wait for the window.
    expect(esm.invocations.map((i) => i.messageIds)).toEqual([ids.slice(0, 10), ids.slice(10, 20)]);
    const started = Date.now();
    await esm.idle();
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(esm.invocations.map((i) => i.messageIds.length)).toEqual([10, 10, 5]);
    expect(esm.invocations[2]?.messageIds).toEqual(ids.slice(20));
  });

  it('gathers messages that arrive within the batching window into one batch', async () => {
    const { queue } = queues();
    const esm = mapping(queue, ok, { batchWindowMs: 300 });
    const started = Date.now();
    queue.send('{"n":1}');
    await sleep(20);
    queue.send('{"n":2}');
    queue.send('{"n":3}');
    await esm.idle();
    expect(esm.invocations.map((i) => i.messageIds.length)).toEqual([3]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(299);
  });

  it('redelivers only the messages listed in batchItemFailures, with a higher receive count', async () => {
    const { queue } = queues();
    const events: SQSEvent[] = [];
    const ended: number[] = [];
    const esm = mapping(queue, async (event) => {
      events.push(event);
      ended.push(Date.now());
      const [, second] = event.Records;
      return events.length === 1 && second !== undefined
        ? { batchItemFailures: [{ itemIdentifier: second.messageId }] }
        : { batchItemFailures: [] };
    });
    const ids = ['a', 'b', 'c'].map((body) => queue.send(`"${body}"`).messageId);
    await esm.idle();
    expect(esm.invocations.map((i) => [i.outcome, i.messageIds, i.receiveCounts])).toEqual([
      ['partial', ids, [1, 1, 1]],
      ['success', [ids[1]], [2]],
    ]);
    const [before] = events[0]?.Records.slice(1) ?? [];
    const [after] = events[1]?.Records ?? [];
    expect(after?.body).toBe('"b"');
    expect(after?.receiptHandle).not.toBe(before?.receiptHandle);
    expect(after?.attributes.SentTimestamp).toBe(before?.attributes.SentTimestamp);
    expect(after?.attributes.ApproximateFirstReceiveTimestamp).toBe(
      before?.attributes.ApproximateFirstReceiveTimestamp,
    );
    // It came back only after the visibility timeout.
    expect((ended[1] ?? 0) - (ended[0] ?? 0)).toBeGreaterThanOrEqual(VISIBILITY_MS - 1);
    expect(queue.size).toBe(0);
  });

  it('redelivers the whole batch when the function throws', async () => {
    const { queue } = queues();
    let calls = 0;
    const esm = mapping(queue, async () => {
      calls += 1;
      if (calls === 1) throw new TypeError('boom');
      return { batchItemFailures: [] };
    });
    const ids = ['a', 'b'].map((body) => queue.send(`"${body}"`).messageId);
    await esm.idle();
    expect(esm.invocations).toEqual([
      { messageIds: ids, receiveCounts: [1, 1], outcome: 'error', failed: ids, error: 'TypeError: boom' },
      { messageIds: ids, receiveCounts: [2, 2], outcome: 'success', failed: [] },
    ]);
  });

  it.each([
    ['undefined', () => undefined],
    ['null', () => null],
    ['an empty object', () => ({})],
    ['a null batchItemFailures', () => ({ batchItemFailures: null })],
    ['an empty batchItemFailures', () => ({ batchItemFailures: [] })],
    ['other keys only', () => ({ reports: ['x'] })],
  ])('treats %s as complete success', async (_name, answer) => {
    const { queue } = queues();
    const esm = mapping(queue, async () => answer());
    queue.send('"a"');
    await esm.idle();
    expect(esm.invocations.map((i) => i.outcome)).toEqual(['success']);
    expect(queue.size).toBe(0);
  });

  it.each([
    ['an itemIdentifier not in the batch', () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] })],
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ['a misspelled key', (id: string) => ({ batchItemFailures: [{ itemIdentifer: id }] })],
    ['a batchItemFailures that is not a list', (id: string) => ({ batchItemFailures: id })],
    ['a response that is not an object', (id: string) => id],
    ['a list instead of an object', (id: string) => [{ itemIdentifier: id }]],
  ])('treats %s as complete failure: every message comes back', async (_name, answer: (id: string) => unknown) => {
    const { queue } = queues();
    let calls = 0;
    const esm = mapping(queue, async (event) => {
      calls += 1;
      return calls === 1 ? answer(event.Records[0]?.messageId ?? '') : { batchItemFailures: [] };
    });
    const ids = ['a', 'b'].map((body) => queue.send(`"${body}"`).messageId);
    await esm.idle();
    expect(esm.invocations.map((i) => [i.outcome, i.messageIds, i.receiveCounts])).toEqual([
      ['invalid-response', ids, [1, 1]],
      ['success', ids, [2, 2]],
    ]);
    expect(esm.invocations[0]?.error).toMatch(/^invalid SQSBatchResponse/);
  });

  it('sends a message that keeps failing to the dead-letter queue after maxReceiveCount receives', async () => {
    const { queue, deadLetterQueue } = queues({ maxReceiveCount: 3 });
    const letters: DeadLetter[] = [];
    const esm = mapping(
      queue,
      async () => {
        throw new Error('still failing');
      },
      { onDeadLetter: (letter) => letters.push(letter) },
    );
    const { messageId } = queue.send('"poison"');
    const good = queue.send('"fine"').messageId;
    await esm.idle();
    // The good message went down with the first batch (a thrown error fails everything), then kept its own count.
    expect(esm.invocations.map((i) => i.receiveCounts)).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(letters.map((l) => [l.messageId, l.receiveCount, l.lastError])).toEqual([
      [messageId, 3, 'Error: still failing'],
      [good, 3, 'Error: still failing'],
    ]);
    expect(deadLetterQueue.messages().map((m) => m.body)).toEqual(['"poison"', '"fine"']);
    expect(queue.size).toBe(0);
    expect(esm.drained).toBe(true);
  });

  it('idle() waits out the batching window and every visibility timeout, and resolves at once when drained', async () => {
    const { queue } = queues();
    let calls = 0;
    const esm = mapping(
      queue,
      async () => {
        calls += 1;
        return calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'x' }] } : undefined;
      },
      { batchWindowMs: 200 },
    );
    await esm.idle(); // nothing sent: resolves
    queue.send('"a"');
    let resolved = false;
    const idle = esm.idle().then(() => {
      resolved = true;
    });
    await sleep(30);
    expect([resolved, esm.invocations.length]).toEqual([false, 0]); // the window is open
    await until(() => esm.invocations.length === 1);
    await sleep(5);
    expect([resolved, esm.drained, queue.size]).toEqual([false, false, 1]); // waiting out its visibility timeout
    await idle;
    expect(esm.invocations.map((i) => i.outcome)).toEqual(['invalid-response', 'success']);
    expect(queue.size).toBe(0);
  });

  it('keeps one batch in flight at a time; what arrives meanwhile waits for the next batch', async () => {
    const { queue } = queues();
    let inFlight = 0;
    let most = 0;
    const esm = mapping(
      queue,
      async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(60);
        inFlight -= 1;
        return { batchItemFailures: [] };
      },
      { batchSize: 3, batchWindowMs: 0 },
    );
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(queue.send(`{"n":${i}}`).messageId);
      await sleep(4);
    }
    await esm.idle();
    expect(most).toBe(1);
    const delivered = esm.invocations.flatMap((i) => i.messageIds);
    expect([...delivered].sort()).toEqual([...ids].sort());
    expect(esm.invocations.every((i) => i.messageIds.length <= 3)).toBe(true);
    expect(esm.invocations.length).toBeLessThan(12);
  });

  it('close() lets the batch in flight finish, stops polling and leaves no timer running', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const deadLetterQueue = new SqsQueue({ name: 'dlq' });
    const queue = new SqsQueue({
      name: 'q',
      visibilityTimeoutMs: 150,
      redrivePolicy: { deadLetterQueue, maxReceiveCount: 5 },
    });
    let finished = 0;
    const esm = new SqsEventSourceMapping({
      queue,
      batchWindowMs: 0,
      invoke: async () => {
        await sleep(20);
        finished += 1;
        throw new Error('retry me');
      },
    });
    queue.send('"a"');
    await sleep(5); // the first batch is in flight
    await esm.close();
    expect(finished).toBe(1);
    queue.close();
    deadLetterQueue.close();
    expect(timers()).toBe(before);
    await sleep(200);
    expect(esm.invocations).toHaveLength(1);
    expect(queue.size).toBe(1);
    await esm.idle(); // a closed mapping does not keep anyone waiting
  });

  it('refuses settings AWS refuses', () => {
    const { queue } = queues();
    expect(() => new SqsEventSourceMapping({ queue, invoke: ok, batchSize: 0 })).toThrow(/BatchSize/);
    expect(() => new SqsEventSourceMapping({ queue, invoke: ok, batchSize: 11, batchWindowMs: 20 })).toThrow(
      /at least 1/,
    );
    expect(() => new SqsQueue({ name: 'x', redrivePolicy: { deadLetterQueue: queue, maxReceiveCount: 0 } })).toThrow(
      /maxReceiveCount/,
    );
  });
});
