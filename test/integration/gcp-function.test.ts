import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GcpStack, LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
const WIU = 'roles/iam.workloadIdentityUser';
const gcpDeployment = (overrides: Record<string, unknown> = {}) =>
  apiDeployment({
    cloudProvider: 'GCP',
    clusterName: 'gcp-us-central1-prod',
    effectiveWorkloadIdentity: SA,
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/acme-gke/locations/us-central1/clusters/astro',
    ...overrides,
  });
type Policy = {
  etag?: string;
  version?: number;
  bindings?: Array<{ role: string; members: string[]; condition?: unknown }>;
};
const member = (ns: string, sa: string) => `serviceAccount:${LOCAL_POOL}[${ns}/${ns}-${sa}]`;

describe('GCP function through the Functions Framework', () => {
  let stack: GcpStack;
  beforeAll(async () => {
    stack = await startGcpStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.gcp.putServiceAccount(SA);
    stack.gcp.setFaults({});
    stack.gcp.resetCalls();
    stack.slack.reset();
  });
  const policy = () => stack.gcp.getPolicy(SA) as Policy;
  const wiu = () => policy().bindings?.find((b) => b.role === WIU && b.condition === undefined)?.members ?? [];
  const send = (deployment: Record<string, unknown>) =>
    postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(deploymentEvent(deployment)));

  it('grants every component, answers the per-target result, and tells Slack', async () => {
    const response = await send(gcpDeployment());
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ results: [{ cloud: 'gcp', target: SA, status: 'granted' }] });
    expect(wiu()).toEqual(
      [
        'dag-processor-serviceaccount',
        'kpo',
        'scheduler-serviceaccount',
        'triggerer-serviceaccount',
        'webserver-serviceaccount',
        'worker-serviceaccount',
      ].map((sa) => member('nebular-gravity-1234', sa)),
    );
    expect(stack.gcp.calls.map((c) => c.method)).toEqual(['getIamPolicy', 'setIamPolicy', 'getIamPolicy']);
    expect(stack.gcp.calls.filter((c) => c.method === 'setIamPolicy').every((c) => c.blindWrite === false)).toBe(true);
    expect(stack.slack.messages[0]?.text).toMatch(/GCP .*added 6/s);
  });

  it('costs one read and no write when re-delivered', async () => {
    await send(gcpDeployment());
    stack.gcp.resetCalls();
    const again = await send(gcpDeployment());
    expect(again.json).toMatchObject({ results: [{ status: 'unchanged' }] });
    expect(stack.gcp.calls.map((c) => c.method)).toEqual(['getIamPolicy']);
  });

  it('acknowledges a replayed webhook-id without touching IAM', async () => {
    const body = JSON.stringify(deploymentEvent(gcpDeployment()));
    await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_gcp_replay' });
    stack.gcp.resetCalls();
    const replay = await postSigned(stack.webhookUrl, stack.webhookSecret, body, { id: 'msg_gcp_replay' });
    expect(replay).toEqual({ status: 200, json: { id: 'msg_gcp_replay', status: 'duplicate' } });
    expect(stack.gcp.calls).toHaveLength(0);
  });

  it('keeps conditional and unrelated bindings exactly', async () => {
    const conditional = {
      role: WIU,
      members: ['serviceAccount:astro-gke-prod.svc.id.goog[team/app]'],
      condition: { title: 'office', expression: 'request.time.getHours("UTC") < 18' },
    };
    const other = { role: 'roles/iam.serviceAccountTokenCreator', members: ['user:ops@example.com'] };
    stack.gcp.putServiceAccount(SA, {
      version: 3,
      bindings: [other, conditional],
      auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }],
    });
    await send(gcpDeployment());
    const after = policy() as Policy & { auditConfigs?: unknown };
    expect(after.bindings?.slice(0, 2)).toEqual([other, conditional]);
    expect(after.auditConfigs).toEqual([{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }]);
    expect(wiu()).toHaveLength(6);
  });

  it('converges 20 concurrent events for one service account with every member present', async () => {
    const namespaces = Array.from({ length: 20 }, (_, i) => `burst-ns-${String(i).padStart(4, '0')}`);
    const responses = await Promise.all(
      namespaces.map((namespace, i) =>
        send(
          gcpDeployment({
            namespace,
            id: `clq2burst${String(i).padStart(16, '0')}`,
            airflowVersion: '3.0.2',
            remoteExecution: { enabled: true },
          }),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const members = wiu();
    for (const namespace of namespaces) {
      expect(members).toContain(member(namespace, 'apiserver-serviceaccount'));
      expect(members).toContain(member(namespace, 'scheduler-serviceaccount'));
    }
    expect(members).toHaveLength(40);
    // The per-service-account lane folds events that queue behind a write into the next one.
    expect(stack.gcp.count('setIamPolicy')).toBeLessThan(10);
  });

  it('re-reads and retries when another writer changes the policy between read and write (409 ABORTED)', async () => {
    stack.gcp.setFaults({ concurrentWriterRate: 0.5, seed: 7 });
    const response = await send(gcpDeployment());
    expect(response.json).toMatchObject({ results: [{ status: 'granted' }] });
    expect(stack.gcp.calls.some((c) => c.method === 'setIamPolicy' && c.status === 409)).toBe(true);
    expect(wiu()).toHaveLength(6);
  });

  it.each([
    [
      'a missing service account',
      () => undefined,
      'missing-sa@acme-data.iam.gserviceaccount.com',
      /does not exist, or this function's service account lacks/,
    ],
    ['an unknown workload identity pool', () => undefined, SA, /Identity Pool does not exist.*check gcp\.pools/s],
  ])('reports %s with what to fix, and writes nothing', async (name, _setup, sa, reason) => {
    if (name.includes('pool')) {
      const custom = await startGcpStack({
        config: `webhook: { secrets: ["env:WEBHOOK_SECRET"] }\ngcp:\n  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: wrong-project.svc.id.goog }\nslack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }`,
      });
      custom.gcp.putServiceAccount(SA);
      const response = await postSigned(
        custom.webhookUrl,
        custom.webhookSecret,
        JSON.stringify(deploymentEvent(gcpDeployment())),
      );
      expect(response.status).toBe(502);
      expect(JSON.stringify(response.json)).toMatch(reason);
      expect(JSON.stringify(custom.slack.messages[0])).toMatch(/Identity Pool does not exist/);
      await custom.close();
      return;
    }
    const response = await send(gcpDeployment({ effectiveWorkloadIdentity: sa }));
    expect(response.status).toBe(502);
    expect(response.json).toMatchObject({ results: [{ status: 'failed', reason: expect.stringMatching(reason) }] });
    expect(stack.gcp.count('setIamPolicy')).toBe(0);
    expect(JSON.stringify(stack.slack.messages[0])).toMatch(/failed/);
  });

  it('refuses to go over 1,500 members and writes nothing', async () => {
    const crowd = Array.from({ length: 1497 }, (_, i) => `user:person${i}@example.com`);
    stack.gcp.putServiceAccount(SA, { bindings: [{ role: 'roles/viewer', members: crowd }] });
    const response = await send(gcpDeployment());
    expect(response.status).toBe(422);
    expect(response.json).toMatchObject({
      results: [{ status: 'does-not-fit', reason: expect.stringMatching(/1500 per policy/) }],
    });
    expect(stack.gcp.count('setIamPolicy')).toBe(0);
  });

  it('retries 429 and 5xx, then reports a retryable failure', async () => {
    stack.gcp.setFaults({ sequence: ['rate-limit', 'server-error'] });
    expect((await send(gcpDeployment())).json).toMatchObject({ results: [{ status: 'granted' }] });
    stack.gcp.putServiceAccount(SA);
    stack.gcp.setFaults({ rateLimitRate: 1 });
    const down = await send(gcpDeployment());
    expect(down.status).toBe(502);
    expect(JSON.stringify(down.json)).toMatch(/600 policy writes per minute|429/);
  });

  it.each([
    ['a tampered signature', { 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, 401],
    ['a stale timestamp', { 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) }, 401],
    ['text/plain', { 'content-type': 'text/plain' }, 415],
  ])('rejects %s with zero IAM calls', async (_name, headers, status) => {
    const body = JSON.stringify(deploymentEvent(gcpDeployment()));
    const response = await fetch(stack.webhookUrl, {
      method: 'POST',
      headers: { ...signWebhook({ secret: stack.webhookSecret, id: 'msg_x', body }), ...headers },
      body,
    });
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(stack.gcp.calls).toHaveLength(0);
  });

  it.each(['{"type": ', 'not json at all', '[1,2'])(
    'answers a body that is not JSON (%j) like AWS and Azure: 401 unsigned, 400 invalid_input once signed',
    async (body) => {
      // The Functions Framework parses application/json itself; without deliverUnparsableJson its HTML page answers.
      const unsigned = await fetch(stack.webhookUrl, {
        method: 'POST',
        headers: { ...signWebhook({ secret: stack.webhookSecret, id: 'msg_nj', body: 'other' }) },
        body,
      });
      expect(unsigned.status).toBe(401);
      expect(unsigned.headers.get('content-type')).toMatch(/application\/json/);
      const signed = await fetch(stack.webhookUrl, {
        method: 'POST',
        headers: signWebhook({ secret: stack.webhookSecret, id: 'msg_nj', body }),
        body,
      });
      expect(signed.status).toBe(400);
      expect(await signed.json()).toMatchObject({
        error: { code: 'invalid_input', message: expect.stringMatching(/not valid JSON/) },
      });
      const manual = await fetch(stack.manualUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
        body,
      });
      expect(manual.status).toBe(400);
      expect(stack.gcp.calls).toHaveLength(0);
    },
  );

  it('rejects a bad namespace with 400 and GET with 405, with zero IAM calls', async () => {
    expect((await send(gcpDeployment({ namespace: '../x' }))).status).toBe(400);
    expect((await fetch(stack.webhookUrl)).status).toBe(405);
    expect(stack.gcp.calls).toHaveLength(0);
  });

  it('runs a manual dry run without writing', async () => {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: gcpDeployment(), dryRun: true }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      dryRun: true,
      results: [{ status: 'planned', added: expect.arrayContaining([member('nebular-gravity-1234', 'kpo')]) }],
    });
    expect(stack.gcp.count('setIamPolicy')).toBe(0);
  });

  describe('Pub/Sub CloudEvent function', () => {
    const queued = (deployment: Record<string, unknown>) => ({
      webhookId: `msg_ps_${Date.now()}`,
      event: deploymentEvent(deployment),
    });

    it('processes the recorded Pub/Sub push shape (structured CloudEvent)', async () => {
      const fixture = JSON.parse(
        readFileSync(new URL('../fixtures/gcp/pubsub-cloudevent.json', import.meta.url), 'utf8'),
      );
      fixture.data.message.data = Buffer.from(JSON.stringify(queued(gcpDeployment()))).toString('base64');
      const response = await fetch(stack.eventUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(fixture),
      });
      expect(response.status).toBe(204);
      expect(wiu()).toHaveLength(6);
      expect(stack.slack.messages).toHaveLength(1);
    });

    it('publishes through the stack with Pub/Sub acknowledgement semantics', async () => {
      expect(await stack.publish(queued(gcpDeployment()))).toEqual({ attempts: 1, delivered: true });
      expect(wiu()).toHaveLength(6);
    });

    it('acknowledges a malformed message once instead of redelivering it forever', async () => {
      expect(await stack.publish({ hello: 'world' })).toEqual({ attempts: 1, delivered: true });
      expect(stack.gcp.calls).toHaveLength(0);
    });

    it('makes Pub/Sub redeliver a retryable failure, then dead-letters it', async () => {
      stack.gcp.setFaults({ serverErrorRate: 1 });
      const result = await stack.publish(queued(gcpDeployment()));
      expect(result).toEqual({ attempts: 4, delivered: false });
      expect(stack.deadLetters).toHaveLength(1);
    });
  });
});
