import { readFileSync } from 'node:fs';
import type { Timer } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createScheduledHandler } from '../../functions/aws/scheduled-handler.ts';
import { webhookDeps } from '../../functions/aws/webhook-deps.ts';
import { createWebhookHandler } from '../../functions/aws/webhook-handler.ts';
import { createTimerHandler } from '../../functions/azure/timer-handler.ts';
import { type AwsStack, demoConfig, startAwsStack } from '../../local/aws-stack.ts';
import { invocationContext } from '../../local/azure-functions-http-server.ts';
import { type AzureStack, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION, startAzureStack } from '../../local/azure-stack.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, signedHttpEvent } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent } from '../support/deployments.ts';

/**
 * One recorded-shape fixture per event source, valid and invalid, through the real handler of each cloud: the
 * Function URL and HTTP API events, the schedulers' payloads (EventBridge Scheduler, Cloud Scheduler through
 * Pub/Sub, the Azure timer), and the Pub/Sub push of a queued event. (SQS batches: aws-reconciler.test.ts; Storage
 * queue messages: azure-queue.test.ts.)
 */
const fixture = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8')) as T;

describe('event sources: AWS', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({ config: demoConfig() });
    stack.aws.putRole('astro-data', EC2_TRUST);
  });
  afterAll(() => stack.close());

  it.each(['function-url-event.json', 'http-api-event.json'] as const)(
    '%s: signed is accepted, unsigned is 401 with nothing published',
    async (name) => {
      const deps = webhookDeps(stack.env);
      const handler = createWebhookHandler(deps);
      const body = JSON.stringify(deploymentEvent(apiDeployment()));
      const accepted = await handler(
        signedHttpEvent(name, stack.webhookSecret, body, `msg_src_${name}`),
        lambdaContext('webhook'),
      );
      expect(accepted.statusCode).toBe(202);
      stack.aws.resetCalls();
      const unsigned = signedHttpEvent(name, stack.webhookSecret, body, `msg_src2_${name}`);
      unsigned.headers = { ...unsigned.headers, 'webhook-signature': 'v1,AAAA' };
      expect((await handler(unsigned, lambdaContext('webhook'))).statusCode).toBe(401);
      expect(stack.aws.count('PutEvents')).toBe(0);
      (await deps.runtime()).close();
      await stack.idle();
    },
  );

  it('EventBridge Scheduler input: {"task": "poll"} runs the poller; another task is dropped without a run', async () => {
    const deps = handlerDeps(stack.env);
    const scheduled = createScheduledHandler(deps);
    stack.astro.upsert({ ...apiDeployment(), updatedAt: new Date().toISOString() });
    const ran = await scheduled(fixture('aws/scheduler-input.json'), lambdaContext('scheduled'));
    expect(ran).toMatchObject({ task: 'poll', deployments: 1 });
    const before = stack.astro.requests.length;
    const dropped = await scheduled(fixture('aws/scheduler-input-invalid.json'), lambdaContext('scheduled'));
    expect(dropped).toEqual({ dropped: 'expected {"task": "poll"} or {"task": "sweep"}' });
    expect(stack.astro.requests.length).toBe(before);
    (await deps.runtime()).close();
  });
});

describe('event sources: GCP', () => {
  let stack: GcpStack;
  beforeAll(async () => {
    stack = await startGcpStack({
      config: `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: { default: astro-gke-prod.svc.id.goog }
`,
    });
  });
  afterAll(() => stack.close());

  const post = (url: string, body: unknown) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(body),
    });

  it('a Pub/Sub push whose message is not a queued event is acknowledged and dropped, with no call', async () => {
    const response = await post(stack.eventUrl, fixture('gcp/pubsub-cloudevent-invalid.json'));
    expect(response.status).toBeLessThan(300);
    expect(stack.gcp.calls).toHaveLength(0);
    expect(stack.astro.requests).toHaveLength(0);
  });

  it('Cloud Scheduler through Pub/Sub: {"task": "poll"} runs the poller; a message without a task is dropped', async () => {
    const poll = await post(stack.scheduleUrl, fixture('gcp/scheduler-cloudevent.json'));
    expect(poll.status).toBeLessThan(300);
    expect(stack.astro.requests.some((r) => r.path.endsWith('/deployments'))).toBe(true);
    const before = stack.astro.requests.length;
    const invalid = fixture<{ data: { message: { data: string } } }>('gcp/scheduler-cloudevent.json');
    invalid.data.message.data = Buffer.from('{"task":"nap"}').toString('base64');
    expect((await post(stack.scheduleUrl, invalid)).status).toBeLessThan(300);
    expect(stack.astro.requests.length).toBe(before);
  });
});

describe('event sources: Azure', () => {
  let stack: AzureStack;
  beforeAll(async () => {
    stack = await startAzureStack({
      config: `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
azure: { allowedIdentities: ["${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/astro-*"] }
`,
    });
  });
  afterAll(() => stack.close());

  it('a timer tick as the host passes it runs the poller, past due or not', async () => {
    const tick = fixture<Timer>('azure/timer.json');
    const poll = createTimerHandler(stack.instance.deps, 'poll');
    expect(await poll(tick, invocationContext('poll'))).toMatchObject({ task: 'poll' });
    const late = await poll({ ...tick, isPastDue: true }, invocationContext('poll'));
    expect(late).toMatchObject({ task: 'poll' });
    expect(stack.astro.requests.filter((r) => r.path.endsWith('/deployments')).length).toBeGreaterThanOrEqual(2);
  });
});
