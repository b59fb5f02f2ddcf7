import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookDeps } from '../../functions/aws/webhook-deps.ts';
import { createWebhookHandler } from '../../functions/aws/webhook-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { signedHttpEvent } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent } from '../support/deployments.ts';

/** Two webhook function instances that share nothing but the lease table, as two concurrent Lambda instances. */
describe('webhook replays across instances (the replay record in the lease table)', () => {
  let stack: AwsStack;
  let instances: Array<ReturnType<typeof createWebhookHandler>>;
  const deps: Array<ReturnType<typeof webhookDeps>> = [];
  const body = JSON.stringify(deploymentEvent(apiDeployment()));
  let n = 0;
  beforeAll(async () => {
    stack = await startAwsStack();
    for (let i = 0; i < 2; i++) deps.push(webhookDeps(stack.env));
    instances = deps.map((d) => createWebhookHandler(d));
  });
  afterAll(async () => {
    for (const d of deps) (await d.runtime()).close();
    await stack.close();
  });
  beforeEach(() => {
    stack.aws.setFaults({});
    stack.aws.resetCalls();
  });

  async function post(instance: number, id: string) {
    const handler = instances[instance];
    if (handler === undefined) throw new Error('no such instance');
    const answer = await handler(signedHttpEvent('function-url-event.json', stack.webhookSecret, body, id), {
      ...lambdaContext('astro-identity-sync-webhook'),
    });
    return { status: answer.statusCode, json: JSON.parse(answer.body ?? '{}') as unknown };
  }

  it('a webhook-id published by one instance is acknowledged as a duplicate by the other, and not published again', async () => {
    const id = `msg_replay_x_${++n}`;
    expect(await post(0, id)).toEqual({ status: 202, json: { id, status: 'accepted' } });
    expect(await post(1, id)).toEqual({ status: 200, json: { id, status: 'duplicate' } });
    expect(await post(0, id)).toEqual({ status: 200, json: { id, status: 'duplicate' } });
    expect(stack.aws.count('PutEvents')).toBe(1);
  });

  it('the same id at both instances at once is published once; the other answers duplicate or 503 (retry)', async () => {
    stack.aws.setFaults({ latencyMs: 30 });
    const id = `msg_replay_x_${++n}`;
    const answers = await Promise.all([post(0, id), post(1, id)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, answers.some((a) => a.status === 200) ? 200 : 503]);
    expect(stack.aws.count('PutEvents')).toBe(1);
    // The sender's retry of the 503 gets the duplicate answer once the first publish is recorded.
    expect(await post(1, id)).toEqual({ status: 200, json: { id, status: 'duplicate' } });
    expect(stack.aws.count('PutEvents')).toBe(1);
  });

  it('an id whose publish failed is released: the retry, at the other instance, publishes it', async () => {
    const id = `msg_replay_x_${++n}`;
    stack.aws.setFaults({ throttleRate: 1, actions: ['PutEvents'] });
    expect((await post(0, id)).status).toBe(503);
    stack.aws.setFaults({});
    expect(await post(1, id)).toEqual({ status: 202, json: { id, status: 'accepted' } });
    expect(await post(0, id)).toEqual({ status: 200, json: { id, status: 'duplicate' } });
  });
});
