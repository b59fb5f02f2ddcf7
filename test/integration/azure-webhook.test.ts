import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AzureStack,
  LOCAL_AKS_ISSUER,
  LOCAL_IDENTITY,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
  startAzureStack,
} from '../../local/azure-stack.ts';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import {
  AIRFLOW3_COMPONENTS,
  AUDIENCE,
  azureDeployment,
  credentials,
  sendWebhook,
  subjectOf,
  targetId,
} from '../support/azure-fixtures.ts';
import { deploymentEvent, postSigned } from '../support/deployments.ts';

const NS = 'galactic-drift-4242';
const NAMES = AIRFLOW3_COMPONENTS.map((c) => `${NS}-${c}`);

describe('Azure webhook route (synchronous reconcile)', () => {
  let stack: AzureStack;
  let identity: string;
  let count = 0;
  const seed = (name: string, issuer: string, subject: string) =>
    stack.azure.putCredential(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identity, { name, issuer, subject });

  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    // A fresh identity per test (allowed by the default `astro-*` glob): no clean-up writes, independent limits.
    count += 1;
    identity = `astro-web-${count}`;
    stack.seedIdentity(identity);
    stack.azure.setFaults({});
    stack.azure.resetCalls();
    stack.slack.reset();
  });

  it('creates the six Airflow 3 credentials, one at a time, with the exact issuer and audience', async () => {
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.status).toBe(200);
    expect(response.json.results).toEqual([
      {
        cloud: 'azure',
        target: targetId(identity),
        status: 'granted',
        added: NAMES,
        removed: [],
        present: [],
        // Counted after the verify read: the identity's credentials against Azure's 20.
        usage: { used: 6, limit: 20, unit: 'credentials' },
      },
    ]);
    expect(credentials(stack, identity)).toEqual(
      AIRFLOW3_COMPONENTS.map((c) => ({
        name: `${NS}-${c}`,
        issuer: LOCAL_AKS_ISSUER, // trailing slash kept: Azure matches the token's iss byte for byte
        subject: subjectOf(NS, c),
        audiences: [AUDIENCE],
      })),
    );
    const writes = stack.azure.calls.filter((c) => c.op === 'createOrUpdate');
    expect(writes).toHaveLength(6);
    // One write in flight per identity: each write starts after the previous answer.
    expect(stack.azure.calls.filter((c) => c.status === 409)).toHaveLength(0);
    expect(stack.slack.messages).toHaveLength(1);
    expect(stack.slack.messages[0]?.text).toMatch(/etl-azure.*granted/s);
  });

  it('costs one list and zero writes on re-delivery, reporting the credentials as present', async () => {
    await sendWebhook(stack, azureDeployment({}, identity));
    stack.azure.resetCalls();
    stack.slack.reset();
    const again = await sendWebhook(stack, azureDeployment({}, identity), { type: 'deployment.updated' });
    expect(again.status).toBe(200);
    expect(again.json.results?.[0]).toMatchObject({ status: 'unchanged', added: [], present: NAMES });
    expect(stack.azure.calls.map((c) => c.op)).toEqual(['list']);
    expect(stack.slack.messages).toHaveLength(0);
  });

  it('preserves unrelated credentials exactly', async () => {
    seed('github-actions', 'https://token.actions.githubusercontent.com', 'repo:acme/infra:ref:refs/heads/main');
    const before = credentials(stack, identity);
    await sendWebhook(stack, azureDeployment({}, identity));
    const after = credentials(stack, identity);
    expect(after).toHaveLength(7);
    expect(after.filter((c) => c.name === 'github-actions')).toEqual(before);
  });

  it('treats an issuer+subject already granted under another name as present, without duplicating it', async () => {
    seed('legacy-scheduler', LOCAL_AKS_ISSUER, subjectOf(NS, 'scheduler'));
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.json.results?.[0]).toMatchObject({
      status: 'granted',
      added: NAMES.filter((n) => !n.endsWith('-scheduler')),
      present: ['legacy-scheduler'],
    });
    const stored = credentials(stack, identity);
    expect(stored).toHaveLength(6);
    expect(stored.filter((c) => c.subject === subjectOf(NS, 'scheduler')).map((c) => c.name)).toEqual([
      'legacy-scheduler',
    ]);
  });

  it('reports a name held by another subject as a conflict and writes nothing', async () => {
    seed(`${NS}-worker`, LOCAL_AKS_ISSUER, 'system:serviceaccount:other:other-worker');
    const before = credentials(stack, identity);
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.status).toBe(422);
    expect(response.json.results?.[0]).toMatchObject({ status: 'conflict', added: [] });
    expect(response.json.results?.[0]?.reason).toContain(`${NS}-worker`);
    expect(stack.azure.count('createOrUpdate')).toBe(0);
    expect(credentials(stack, identity)).toEqual(before);
  });

  it('creates nothing when the Deployment does not fit, and says why and what to do', async () => {
    for (let i = 0; i < 17; i++) seed(`other-${i}`, LOCAL_AKS_ISSUER, `system:serviceaccount:other-${i}:sa`);
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.status).toBe(422);
    const [result] = response.json.results ?? [];
    expect(result?.status).toBe('does-not-fit');
    expect(result?.reason).toMatch(/has 17 of 20 federated credentials; this Deployment needs 6 more/);
    expect(result?.reason).toMatch(/created all or nothing, so none of them can be added to this identity/);
    expect(result?.reason).toMatch(/about four Deployments per managed identity: use another/);
    expect(result?.remedies?.join(' ')).toMatch(/another user-assigned managed identity/);
    expect(stack.azure.count('createOrUpdate')).toBe(0);
    expect(credentials(stack, identity)).toHaveLength(17);
    expect(JSON.stringify(stack.slack.messages[0])).toMatch(/does not fit.*17 of 20/);
  });

  it('logs correlation keys and never a secret', async () => {
    const before = stack.logs.length;
    await sendWebhook(stack, azureDeployment({}, identity), { id: `msg_logs_${count}` });
    const lines = stack.logs.slice(before).map((l) => l.text);
    expect(lines.some((l) => l.includes(`"webhookId":"msg_logs_${count}"`))).toBe(true);
    expect(lines.some((l) => l.includes('"deploymentId":"clazure000000000000000001"'))).toBe(true);
    for (const secret of [stack.webhookSecret, stack.manualToken, stack.azure.token, stack.env.SLACK_BOT_TOKEN]) {
      expect(lines.join('\n')).not.toContain(secret);
    }
  });
});

describe('Azure webhook rejections', () => {
  let stack: AzureStack;
  const body = JSON.stringify(deploymentEvent(azureDeployment()));
  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.azure.resetCalls());

  async function expectRejected(response: { status: number; json: unknown }, status: number, code: string) {
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ error: { code, message: expect.any(String) } });
    expect(stack.azure.calls).toHaveLength(0);
    expect(credentials(stack, LOCAL_IDENTITY)).toEqual([]);
  }

  async function post(headers: Record<string, string>, payload = body) {
    const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body: payload });
    return { status: response.status, json: await response.json() };
  }

  it.each([
    [
      'a tampered body',
      () => post(signWebhook({ secret: stack.webhookSecret, id: 'm1', body }), body.replace(NS, `${NS}9`)),
      401,
      'invalid_signature',
    ],
    [
      'another secret',
      () => post(signWebhook({ secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', id: 'm2', body })),
      401,
      'invalid_signature',
    ],
    [
      'a stale timestamp',
      () =>
        post(signWebhook({ secret: stack.webhookSecret, id: 'm3', body, timestamp: new Date(Date.now() - 600_000) })),
      401,
      'invalid_signature',
    ],
    [
      'text/plain',
      () => post({ ...signWebhook({ secret: stack.webhookSecret, id: 'm4', body }), 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    ],
  ] as const)('rejects %s with zero ARM calls', async (_name, send, status, code) => {
    await expectRejected(await send(), status, code);
  });

  it('rejects a body over 256 KiB (413), GET (405) and a bad namespace (400) with zero ARM calls', async () => {
    const huge = JSON.stringify({ ...deploymentEvent(azureDeployment()), padding: 'x'.repeat(300 * 1024) });
    await expectRejected(await postSigned(stack.webhookUrl, stack.webhookSecret, huge), 413, 'payload_too_large');
    const get = await fetch(stack.webhookUrl);
    await expectRejected({ status: get.status, json: await get.json() }, 405, 'method_not_allowed');
    const bad = JSON.stringify(deploymentEvent(azureDeployment({ namespace: '*' })));
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, bad);
    await expectRejected(response, 400, 'invalid_input');
    expect(JSON.stringify(response.json)).toMatch(/namespace/);
  });

  it('verifies the exact bytes: a body with a byte-order mark signed as sent is accepted', async () => {
    const withBom = `\uFEFF${body}`;
    const headers = signWebhook({ secret: stack.webhookSecret, id: 'm-bom', body: withBom });
    const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body: withBom });
    // The signature matched the bytes as sent (request.text() would have dropped the BOM: 401); the BOM then makes
    // the body invalid JSON, which is the sender's to fix.
    expect({ status: response.status, json: await response.json() }).toMatchObject({
      status: 400,
      json: { error: { code: 'invalid_input' } },
    });
  });
});
