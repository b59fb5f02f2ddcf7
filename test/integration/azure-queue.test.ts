import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QueueResult } from '../../functions/azure/queue-handler.ts';
import { type AzureStack, identityResourceId, startAzureStack } from '../../local/azure-stack.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { azureDeployment, credentials, queuedEvent, sendWebhook } from '../support/azure-fixtures.ts';

const NS = 'galactic-drift-4242';
const name = (c: string) => `${NS}-${c}`;

const fixture = (name: string) => readFileSync(new URL(`../fixtures/azure/${name}`, import.meta.url), 'utf8');
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

function reportOf(result: QueueResult | undefined): EventReport | undefined {
  return result !== undefined && 'reports' in result ? result.reports[0] : undefined;
}

describe('Azure queue trigger', () => {
  let stack: AzureStack;
  let identity: string;
  let count = 0;
  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    count += 1;
    identity = `astro-queue-${count}`;
    stack.seedIdentity(identity);
    stack.azure.setFaults({});
    stack.azure.resetCalls();
    stack.slack.reset();
  });

  it.each([
    ['the JSON text of the event (what a sender enqueues)', (m: unknown) => m],
    ['a JSON string holding the event (a sender that encoded it twice)', (m: unknown) => JSON.stringify(m)],
  ])('processes a valid message sent as %s, through Azurite', async (_shape, encode) => {
    const delivery = await stack.enqueue(encode(queuedEvent(azureDeployment({}, identity), `msg_q_${count}`)));
    expect(delivery).toMatchObject({ attempts: 1, poisoned: false, errors: [] });
    const report = reportOf(delivery.result);
    expect(report?.eventId).toBe(`msg_q_${count}`);
    expect(report?.results[0]).toMatchObject({ status: 'granted' });
    expect(report?.results[0]?.added).toHaveLength(6);
    expect(credentials(stack, identity)).toHaveLength(6);
    expect(stack.slack.messages).toHaveLength(1);
    // Completed: deleted from the queue, nothing in poison.
    expect((await stack.queue.peekMessages()).peekedMessageItems).toEqual([]);
  });

  it('processes the fixture exactly as a sender writes it (pretty-printed JSON, base64-encoded)', async () => {
    stack.seedIdentity('astro-queue-fixture');
    const text = fixture('storage-queue-message.json');
    const delivery = await stack.enqueueRaw(base64(text));
    expect(delivery).toMatchObject({ attempts: 1, poisoned: false });
    const report = reportOf(delivery.result);
    expect(report?.eventId).toBe('msg_2Qf7queueFixture0001');
    expect(report?.results[0]).toMatchObject({ status: 'granted' });
    expect(credentials(stack, 'astro-queue-fixture')).toHaveLength(6);
    const logged = stack.logs.filter((l) => l.functionName === 'reconciler').map((l) => l.text);
    expect(logged.some((t) => t.includes(`"messageId":"${delivery.messageId}"`))).toBe(true);
  });

  it('throws on a retryable failure so the host retries, and poisons the message after 5 deliveries', async () => {
    stack.azure.setFaults({ serverErrorRate: 1, ops: ['list'] });
    const message = queuedEvent(azureDeployment({}, identity), `msg_poison_${count}`);
    const delivery = await stack.enqueue(message);
    expect(delivery).toMatchObject({ attempts: 5, poisoned: true, result: undefined });
    expect(delivery.errors).toHaveLength(5);
    expect(delivery.errors.every((e) => /retryable way/.test(e))).toBe(true);
    // The poison queue holds the message text as it was sent (base64 of the JSON), ready for a replay.
    const poisoned = (await stack.poisonMessages()).filter((p) => p.text === JSON.stringify(message));
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0]?.messageText).toBe(base64(JSON.stringify(message)));
    expect(poisoned[0]?.message).toEqual(message);
    expect((await stack.queue.peekMessages()).peekedMessageItems).toEqual([]);
    // Each delivery: one list with the SDK's 3 retries; nothing was ever written.
    expect(stack.azure.count('list')).toBe(20);
    expect(stack.azure.count('createOrUpdate')).toBe(0);
    expect(stack.logs.some((l) => l.functionName === 'host' && /MaxDequeueCount of 5/.test(l.text))).toBe(true);
  });

  it('completes (no retry) when the failure needs a person: a missing identity', async () => {
    const missing = azureDeployment({ effectiveWorkloadIdentity: identityResourceId('astro-missing') });
    const delivery = await stack.enqueue(queuedEvent(missing));
    expect(delivery).toMatchObject({ attempts: 1, poisoned: false });
    expect(reportOf(delivery.result)?.results[0]).toMatchObject({
      status: 'failed',
      retryable: false,
      reason: expect.stringMatching(/not found \(check subscription, resource group, name\)/),
    });
    expect(JSON.stringify(stack.slack.messages[0])).toMatch(/not found/);
  });

  it.each([
    ['text that is not JSON', base64('deployment created!')],
    ['JSON without an event', base64(JSON.stringify({ webhookId: 'msg_x' }))],
    ['the webhook body instead of {webhookId, event} (fixture)', base64(fixture('storage-queue-message-invalid.json'))],
    ['an event with a bad namespace', base64(JSON.stringify(queuedEvent(azureDeployment({ namespace: '*' }))))],
  ])('drops %s after one delivery, with zero ARM calls', async (_name, messageText) => {
    const poisoned = (await stack.poisonMessages()).length;
    const before = stack.logs.length;
    const delivery = await stack.enqueueRaw(messageText);
    expect(delivery).toMatchObject({ attempts: 1, poisoned: false, result: { dropped: expect.any(String) } });
    expect(await stack.poisonMessages()).toHaveLength(poisoned);
    expect(stack.azure.calls).toHaveLength(0);
    const logged = stack.logs.slice(before).find((l) => l.level === 'error');
    expect(logged?.text).toMatch(/dropping a malformed queue message/);
    expect(logged?.text).toMatch(/"dequeueCount":1/);
    expect(logged?.text).toContain(`"messageId":"${delivery.messageId}"`);
  });

  it('moves a message that is not base64 straight to poison: the function never runs', async () => {
    const before = stack.logs.length;
    const text = JSON.stringify(queuedEvent(azureDeployment({}, identity)));
    const delivery = await stack.enqueueRaw(text);
    expect(delivery).toMatchObject({ attempts: 1, poisoned: true, result: undefined });
    expect(delivery.errors[0]).toMatch(/not valid base64/);
    expect(stack.logs.slice(before).filter((l) => l.functionName === 'reconciler')).toEqual([]);
    expect(stack.azure.calls).toHaveLength(0);
    const poisoned = (await stack.poisonMessages()).filter((p) => p.messageText === text);
    expect(poisoned).toEqual([expect.objectContaining({ messageText: text, text: undefined, message: undefined })]);
  });

  it('resumes a grant that crashed between two writes: the redelivery creates the rest', async () => {
    // The third create fails with 500 on every SDK attempt (1 + 3 retries): two credentials exist, four do not.
    stack.azure.setFaults({ sequence: ['ok', 'ok', ...Array(4).fill('server-error')], ops: ['createOrUpdate'] });
    const delivery = await stack.enqueue(queuedEvent(azureDeployment({}, identity)));
    expect(delivery).toMatchObject({ attempts: 2, poisoned: false });
    expect(delivery.errors).toHaveLength(1);
    const report = reportOf(delivery.result);
    expect(report?.results[0]).toMatchObject({
      status: 'granted',
      added: ['kpo', 'scheduler', 'triggerer', 'worker'].map(name),
      present: ['apiserver', 'dag-processor'].map(name),
    });
    expect(credentials(stack, identity)).toHaveLength(6);
    // Slack heard both deliveries: the failure naming what was created, then the completion naming both lists.
    const [failed, completed] = stack.slack.messages.map((m) => JSON.stringify(m));
    expect(failed).toMatch(new RegExp(`failed.*created ${name('apiserver')}, created ${name('dag-processor')} before`));
    expect(completed).toMatch(new RegExp(`${name('worker')}.*${name('apiserver')}`));
  });

  it('resumes through the webhook too: 502 retryable first, then the next event completes', async () => {
    stack.azure.setFaults({ sequence: ['ok', 'ok', ...Array(4).fill('server-error')], ops: ['createOrUpdate'] });
    const first = await sendWebhook(stack, azureDeployment({}, identity), { id: `msg_resume_${count}` });
    expect(first.status).toBe(502);
    expect(first.json.results?.[0]).toMatchObject({ status: 'failed', retryable: true, added: [] });
    expect(first.json.results?.[0]?.reason).toMatch(
      /InternalServerError.*created .*-apiserver, created .*-dag-processor before/,
    );
    // A new webhook-id: an instance's replay guard acknowledges a re-sent id as a duplicate without processing it.
    const again = await sendWebhook(stack, azureDeployment({}, identity), { id: `msg_resume_${count}_next` });
    expect(again.status).toBe(200);
    expect(again.json.results?.[0]).toMatchObject({
      status: 'granted',
      added: ['kpo', 'scheduler', 'triggerer', 'worker'].map(name),
      present: ['apiserver', 'dag-processor'].map(name),
    });
  });
});
