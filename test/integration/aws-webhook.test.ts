import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookDeps } from '../../functions/aws/webhook-deps.ts';
import { createWebhookHandler } from '../../functions/aws/webhook-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import { EC2_TRUST, signedHttpEvent } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

describe('AWS webhook function', () => {
  let stack: AwsStack;
  const body = JSON.stringify(deploymentEvent(apiDeployment()));
  beforeAll(async () => {
    stack = await startAwsStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.setFaults({});
    stack.aws.resetCalls();
  });

  async function expectRejected(response: { status: number; json: unknown }, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ error: { code, message: expect.any(String) } });
    await stack.idle();
    expect(stack.aws.count('PutEvents')).toBe(0);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  }

  it('answers 202 with the webhook id and publishes one normalized event', async () => {
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_accept_1' });
    expect(response).toEqual({ status: 202, json: { id: 'msg_accept_1', status: 'accepted' } });
    await stack.idle();
    const entry = stack.aws.events.at(-1);
    expect(entry).toMatchObject({
      EventBusName: 'astro-identity-sync',
      Source: 'astro-identity-sync',
      DetailType: 'Astro Deployment Changed',
    });
    const detail = JSON.parse(entry?.Detail ?? '{}');
    expect(detail.webhookId).toBe('msg_accept_1');
    // Normalized: unknown API fields are not forwarded.
    expect(detail.event.data.deployment.executor).toBeUndefined();
  });

  it('acknowledges a replayed webhook-id without publishing it again, but retries one that failed', async () => {
    const first = await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_replay_1' });
    const replay = await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_replay_1' });
    expect(first.json).toEqual({ id: 'msg_replay_1', status: 'accepted' });
    // The duplicate answer is the same on every cloud: 200, nothing done twice.
    expect(replay).toEqual({ status: 200, json: { id: 'msg_replay_1', status: 'duplicate' } });
    expect(stack.aws.count('PutEvents')).toBe(1);
    await stack.idle();

    stack.aws.setFaults({ failEventEntries: () => true });
    expect((await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_replay_2' })).status).toBe(503);
    stack.aws.setFaults({});
    expect((await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_replay_2' })).json).toMatchObject({
      status: 'accepted',
    });
    await stack.idle();
  });

  it.each([
    ['a tampered body', { tamper: true }, 401, 'invalid_signature'],
    ['a signature from another secret', { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }, 401, 'invalid_signature'],
    ['a timestamp 10 minutes old', { timestamp: new Date(Date.now() - 600_000) }, 401, 'invalid_signature'],
    ['missing signature headers', { headers: { 'webhook-signature': '' } }, 401, 'invalid_signature'],
    ['text/plain', { headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
  ])(
    'rejects %s with zero writes',
    async (_name, variant: {
      tamper?: boolean;
      secret?: string;
      timestamp?: Date;
      headers?: Record<string, string>;
    }, status, code) => {
      const signed = variant.tamper ? body.replace('nebular-gravity-1234', 'nebular-gravity-9999') : body;
      const headers = signWebhook({
        secret: variant.secret ?? stack.webhookSecret,
        id: 'msg_reject',
        body,
        ...(variant.timestamp ? { timestamp: variant.timestamp } : {}),
      });
      const response = await fetch(stack.webhookUrl, {
        method: 'POST',
        headers: { ...headers, ...variant.headers },
        body: signed,
      });
      await expectRejected({ status: response.status, json: await response.json() }, status, code);
    },
  );

  it.each([
    ['a wildcard namespace', { namespace: '*' }],
    ['a namespace with a colon', { namespace: 'a:b' }],
    ['a path in the namespace', { namespace: '../x' }],
    ['an http:// issuer', { oidcIssuerUrl: 'http://oidc.example.com/id/1' }],
    ['an issuer with a query', { oidcIssuerUrl: 'https://oidc.example.com/id/1?x=1' }],
  ])('rejects a signed body with %s with 400 and zero writes', async (_name, fields) => {
    const bad = JSON.stringify(deploymentEvent(apiDeployment(fields)));
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, bad);
    await expectRejected(response, 400, 'invalid_input');
    expect(JSON.stringify(response.json)).toMatch(/namespace|oidcIssuerUrl/);
  });

  it('rejects a body over 256 KiB with 413 and GET with 405', async () => {
    const huge = JSON.stringify({ ...deploymentEvent(apiDeployment()), padding: 'x'.repeat(300 * 1024) });
    await expectRejected(await postSigned(stack.webhookUrl, stack.webhookSecret, huge), 413, 'payload_too_large');
    const get = await fetch(stack.webhookUrl);
    await expectRejected({ status: get.status, json: await get.json() }, 405, 'method_not_allowed');
  });

  it('re-sends entries EventBridge failed, and answers 503 when it keeps failing', async () => {
    let calls = 0;
    stack.aws.setFaults({ failEventEntries: () => calls++ === 0 });
    const ok = await postSigned(stack.webhookUrl, stack.webhookSecret, body);
    expect(ok.status).toBe(202);
    expect(stack.aws.count('PutEvents')).toBe(2);
    await stack.idle();

    stack.aws.setFaults({ failEventEntries: () => true });
    stack.aws.resetCalls();
    const down = await postSigned(stack.webhookUrl, stack.webhookSecret, body);
    expect(down.status).toBe(503);
    expect(stack.aws.count('PutEvents')).toBe(3);
    expect(stack.aws.count('GetRole')).toBe(0);
  });

  it('answers 503 for any failure to publish: the SDK throttled after its retries, or no connection at all', async () => {
    stack.aws.setFaults({ throttleRate: 1, actions: ['PutEvents'] });
    stack.aws.resetCalls();
    const throttled = await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_throttled' });
    expect(throttled.status).toBe(503);
    expect(throttled.json).toMatchObject({ error: { code: 'unavailable', message: expect.stringMatching(/retry/) } });
    expect(stack.aws.count('PutEvents')).toBeGreaterThanOrEqual(3);
    stack.aws.setFaults({});
    // The same id is not remembered as handled: the sender's retry goes through.
    expect((await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_throttled' })).status).toBe(202);
    await stack.idle();

    // No bus endpoint answering (a network failure, not an API error).
    const deps = webhookDeps({ ...stack.env, ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: 'http://127.0.0.1:9' });
    const unreachable = await createWebhookHandler(deps)(
      signedHttpEvent('function-url-event.json', stack.webhookSecret, body, 'msg_no_bus'),
      lambdaContext('webhook'),
    );
    expect(unreachable.statusCode).toBe(503);
    expect(JSON.parse(unreachable.body ?? '{}')).toMatchObject({ error: { code: 'unavailable' } });
    (await deps.runtime()).close();
  }, 30_000);

  it.each(['function-url-event.json', 'http-api-event.json'] as const)(
    'accepts the recorded %s shape (base64 bodies too)',
    async (fixture) => {
      const deps = webhookDeps(stack.env);
      const handler = createWebhookHandler(deps);
      const result = await handler(
        signedHttpEvent(fixture, stack.webhookSecret, body, `msg_${fixture}`),
        lambdaContext('webhook'),
      );
      expect(result).toMatchObject({ statusCode: 202 });
      expect(JSON.parse(result.body ?? '{}')).toEqual({ id: `msg_${fixture}`, status: 'accepted' });
      (await deps.runtime()).close();
    },
  );
});
