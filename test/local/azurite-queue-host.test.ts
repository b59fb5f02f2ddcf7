import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InvocationContext } from '@azure/functions';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueOutcomes,
  decodeBase64MessageText,
  encodeQueueMessage,
  type QueueHost,
  type QueueHostOptions,
  type QueueSettlement,
  startQueueHost,
} from '../../local/azure-queue-host.ts';
import { type Azurite, AzuriteStartError, startAzurite } from '../../local/azurite.ts';

const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return check();
}

interface Delivery {
  readonly message: unknown;
  readonly metadata: Record<string, unknown>;
}

describe('the local Functions queue host on Azurite', () => {
  let azurite: Azurite;
  let service: QueueServiceClient;
  let n = 0;
  const hosts: QueueHost[] = [];

  beforeAll(async () => {
    azurite = await startAzurite();
    console.log(`Azurite queue service started in ${azurite.startMs} ms`);
    service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.close()));
  });
  afterAll(() => azurite.close());

  /** A fresh queue pair and a host on it whose handler is `handler`, recording every delivery. */
  async function setup(
    handler: (message: unknown, context: InvocationContext, delivery: number) => Promise<unknown> = async () => 'ok',
    options: Partial<QueueHostOptions> = {},
  ) {
    n += 1;
    const queue = service.getQueueClient(`host-test-${n}`);
    const poisonQueue = service.getQueueClient(`host-test-${n}-poison`);
    await Promise.all([queue.create(), poisonQueue.create()]);
    const deliveries: Delivery[] = [];
    const outcomes = createQueueOutcomes();
    const host = startQueueHost({
      queue,
      poisonQueue,
      batchSize: 1,
      maxPollingIntervalMs: 200,
      ...options,
      handler: (message, context) => {
        deliveries.push({ message, metadata: context.triggerMetadata ?? {} });
        return handler(message, context, deliveries.length);
      },
      onOutcome: (o) => outcomes.record(o),
    });
    hosts.push(host);
    const sendRaw = async (messageText: string): Promise<QueueSettlement> => {
      const { messageId } = await queue.sendMessage(messageText);
      host.wake();
      return outcomes.settled(messageId);
    };
    return {
      queue,
      poisonQueue,
      host,
      deliveries,
      sendRaw,
      send: (value: unknown) => sendRaw(encodeQueueMessage(value)),
    };
  }

  async function texts(queue: QueueClient): Promise<string[]> {
    const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
    return peekedMessageItems.map((m) => m.messageText);
  }

  it('round-trips a value through base64 as a sender and the host encode it (non-ASCII included)', async () => {
    const value = { webhookId: 'msg_1', event: { name: 'Zürich ☃ ü', n: 1, nested: [true, null] } };
    const encoded = encodeQueueMessage(value);
    expect(encoded).toBe(Buffer.from(JSON.stringify(value), 'utf8').toString('base64'));
    expect(decodeBase64MessageText(encoded)).toBe(JSON.stringify(value));
    // The host ignores whitespace the way .NET's base64 decoder does.
    expect(decodeBase64MessageText(`${encoded.slice(0, 8)}\r\n${encoded.slice(8)}`)).toBe(JSON.stringify(value));

    const { send, deliveries, queue } = await setup();
    const settled = await send(value);
    expect(settled).toMatchObject({ attempts: 1, poisoned: false, result: 'ok', errors: [] });
    expect(deliveries.map((d) => d.message)).toEqual([value]);
    expect(await texts(queue)).toEqual([]);
  });

  it.each([
    ['a JSON object', '{"a":1}', { a: 1 }],
    ['a JSON string', '"deployment created"', 'deployment created'],
    ['a JSON number', '42', 42],
    ['text that is not JSON', 'deployment created!', 'deployment created!'],
    ['almost JSON', '{"a":1', '{"a":1'],
  ])('hands the handler %s as the Node v4 worker does', async (_name, text, expected) => {
    const { sendRaw, deliveries } = await setup();
    await sendRaw(base64(text));
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.message).toEqual(expected);
  });

  it('increments dequeueCount across redeliveries, with the trigger metadata the host passes', async () => {
    const { send, deliveries, queue } = await setup(async (_message, _context, delivery) => {
      if (delivery < 3) throw new Error(`failure ${delivery}`);
      return 'third time';
    });
    const settled = await send({ hello: 'again' });
    expect(settled).toMatchObject({ attempts: 3, poisoned: false, result: 'third time' });
    expect(settled.errors).toEqual(['failure 1', 'failure 2']);
    expect(deliveries.map((d) => d.metadata.dequeueCount)).toEqual([1, 2, 3]);
    const [first, , third] = deliveries.map((d) => d.metadata);
    expect(first?.id).toBe(settled.messageId);
    expect(third?.id).toBe(settled.messageId);
    // Each delivery is a new receive: a new pop receipt; the insertion time stays.
    expect(first?.popReceipt).not.toBe(third?.popReceipt);
    expect(first?.insertionTime).toBe(third?.insertionTime);
    for (const key of ['insertionTime', 'expirationTime', 'nextVisibleTime']) {
      expect(Number.isNaN(Date.parse(String(first?.[key])))).toBe(false);
    }
    expect(Object.keys(first ?? {}).sort()).toEqual(
      ['dequeueCount', 'expirationTime', 'id', 'insertionTime', 'nextVisibleTime', 'popReceipt'].sort(),
    );
    expect(await texts(queue)).toEqual([]);
  });

  it('moves a message that failed maxDequeueCount times to <queue>-poison with its text intact', async () => {
    const { sendRaw, deliveries, queue, poisonQueue } = await setup(
      async () => {
        throw new Error('still broken');
      },
      { maxDequeueCount: 3 },
    );
    const text = base64(JSON.stringify({ webhookId: 'msg_poison', body: 'ünïcode' }));
    const settled = await sendRaw(text);
    expect(settled).toMatchObject({ attempts: 3, poisoned: true, result: undefined });
    expect(settled.errors).toEqual(['still broken', 'still broken', 'still broken']);
    expect(deliveries).toHaveLength(3);
    expect(await texts(queue)).toEqual([]);
    expect(await texts(poisonQueue)).toEqual([text]);
  });

  it('deletes a message once the handler resolves: no second delivery', async () => {
    const { send, deliveries, queue } = await setup();
    await send({ once: true });
    // Well past the (zero) visibility timeout and several polls.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(deliveries).toHaveLength(1);
    const properties = await queue.getProperties();
    expect(properties.approximateMessagesCount).toBe(0);
  });

  it('keeps a failed message invisible for visibilityTimeout before the next delivery', async () => {
    const times: number[] = [];
    const { send } = await setup(
      async (_message, _context, delivery) => {
        times.push(Date.now());
        if (delivery === 1) throw new Error('once');
        return 'ok';
      },
      { visibilityTimeoutSeconds: 1 },
    );
    const settled = await send({ retry: 'later' });
    expect(settled.attempts).toBe(2);
    const [first = 0, second = 0] = times;
    expect(second - first).toBeGreaterThanOrEqual(900);
  });

  it('moves a message that is not base64 straight to poison without invoking the handler', async () => {
    const { sendRaw, deliveries, queue, poisonQueue } = await setup();
    for (const text of ['deployment created!', '{"webhookId":"msg_plain_json"}', 'abc']) {
      const settled = await sendRaw(text);
      expect(settled).toMatchObject({ attempts: 1, poisoned: true });
      expect(settled.errors[0]).toMatch(/not valid base64/);
    }
    expect(deliveries).toEqual([]);
    expect(await texts(queue)).toEqual([]);
    expect(await texts(poisonQueue)).toEqual(['deployment created!', '{"webhookId":"msg_plain_json"}', 'abc']);
  });

  it('poisons a message dequeued more than maxDequeueCount times (an instance died holding it) unread', async () => {
    n += 1;
    const queue = service.getQueueClient(`host-test-${n}`);
    const poisonQueue = service.getQueueClient(`host-test-${n}-poison`);
    await queue.create();
    const { messageId } = await queue.sendMessage(encodeQueueMessage({ crashed: true }));
    // Three receives that never settle, as three crashed instances would leave it.
    for (let i = 0; i < 3; i++) {
      const [item] = (await queue.receiveMessages({ visibilityTimeout: 30 })).receivedMessageItems;
      expect(item?.dequeueCount).toBe(i + 1);
      if (item) await queue.updateMessage(item.messageId, item.popReceipt, undefined, 0);
    }
    const outcomes = createQueueOutcomes();
    const invoked: unknown[] = [];
    hosts.push(
      startQueueHost({
        queue,
        poisonQueue,
        maxDequeueCount: 2,
        handler: async (message) => void invoked.push(message),
        onOutcome: (o) => outcomes.record(o),
      }),
    );
    const settled = await outcomes.settled(messageId);
    expect(settled).toMatchObject({ attempts: 4, poisoned: true, errors: [] });
    expect(invoked).toEqual([]);
    // The poison queue did not exist: the host creates it, as AddMessageAndCreateIfNotExists does.
    expect(await texts(poisonQueue)).toEqual([encodeQueueMessage({ crashed: true })]);
  });

  it('processes up to batchSize messages in parallel', async () => {
    let running = 0;
    let peak = 0;
    const { send } = await setup(
      async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 150));
        running -= 1;
        return 'ok';
      },
      { batchSize: 4, newBatchThreshold: 0 },
    );
    // Sent first, then taken by one receive.
    const settled = await Promise.all([1, 2, 3, 4].map((i) => send({ i })));
    expect(settled.every((s) => !s.poisoned)).toBe(true);
    expect(peak).toBeGreaterThan(1);
  });

  it('close() waits for the invocation in flight and stops polling', async () => {
    let started = false;
    let finished = false;
    const { queue, host } = await setup(async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 200));
      finished = true;
      return 'ok';
    });
    await queue.sendMessage(encodeQueueMessage({ slow: true }));
    host.wake();
    expect(await until(() => started, 2_000)).toBe(true);
    await host.close();
    expect(finished).toBe(true);
    await queue.sendMessage(encodeQueueMessage({ after: 'close' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await texts(queue)).toEqual([encodeQueueMessage({ after: 'close' })]);
  });
});

describe('the Azurite process', () => {
  it('close() ends the process and frees its port', async () => {
    const azurite = await startAzurite();
    expect(alive(azurite.pid)).toBe(true);
    const client = QueueServiceClient.fromConnectionString(azurite.connectionString, { retryOptions: { maxTries: 1 } });
    await client.getProperties();
    await azurite.close();
    expect(alive(azurite.pid)).toBe(false);
    await expect(fetch(azurite.queueUrl)).rejects.toThrow();
  });

  it('dies with its parent, even when the parent is SIGKILLed', async () => {
    const module = fileURLToPath(new URL('../../local/azurite.ts', import.meta.url));
    const script = `const { startAzurite } = await import(${JSON.stringify(module)}); const a = await startAzurite(); console.log(a.pid); setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      parent.stdout.on('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      parent.once('exit', (code) => reject(new Error(`the parent exited first (${code})`)));
    });
    expect(alive(pid)).toBe(true);
    parent.kill('SIGKILL');
    expect(await until(() => !alive(pid), 5_000)).toBe(true);
  });

  it('fails with a clear error when it does not start in time, leaving no process', async () => {
    const failure = await startAzurite({ startTimeoutMs: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(AzuriteStartError);
    expect(String(failure)).toMatch(/Azurite did not start within 1 ms/);
    const pid = failure instanceof AzuriteStartError ? failure.pid : undefined;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid ?? 0)).toBe(false);
  });
});
