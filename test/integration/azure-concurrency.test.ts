import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureStack, startAzureStack } from '../../local/azure-stack.ts';
import {
  AIRFLOW3_COMPONENTS,
  azureDeployment,
  credentials,
  invokeManual,
  remoteDeployment,
  sendWebhook,
} from '../support/azure-fixtures.ts';

const CONFLICT = 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity';
const NAMES = AIRFLOW3_COMPONENTS.map((c) => `galactic-drift-4242-${c}`);

describe('Azure concurrency: one write in flight per identity', () => {
  let stack: AzureStack;
  let count = 0;
  const fresh = (prefix: string) => {
    count += 1;
    const name = `astro-${prefix}-${count}`;
    stack.seedIdentity(name);
    return name;
  };
  const conflicts = () => stack.azure.calls.filter((c) => c.status === 409).length;

  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.azure.setFaults({});
    stack.azure.resetCalls();
  });

  it('grants 10 concurrent events on two identities with no 409: the instance lanes serialize each identity', async () => {
    const identities = [fresh('ten'), fresh('ten')];
    const deployments = Array.from({ length: 10 }, (_, i) => remoteDeployment(i, identities[i % 2]));
    const responses = await Promise.all(deployments.map((d) => sendWebhook(stack, d)));
    for (const [i, response] of responses.entries()) {
      const ns = `remote-orbit-${1000 + i}`;
      expect(response.status).toBe(200);
      expect(response.json.results?.[0]).toMatchObject({
        status: 'granted',
        added: [`${ns}-apiserver`, `${ns}-scheduler`],
      });
    }
    for (const identity of identities) expect(credentials(stack, identity)).toHaveLength(10);
    // Two credentials per Remote Execution Deployment, each written exactly once.
    expect(stack.azure.count('createOrUpdate')).toBe(20);
    expect(conflicts()).toBe(0);
  });

  it('absorbs a 409 on the first write with WriteConflictError: re-read, re-plan, then every credential', async () => {
    const identity = fresh('conflict');
    stack.azure.setFaults({ sequence: ['conflict'], ops: ['createOrUpdate'] });
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.status).toBe(200);
    expect(response.json.results?.[0]).toMatchObject({ status: 'granted', added: NAMES, present: [] });
    expect(credentials(stack, identity)).toHaveLength(6);
    expect(stack.azure.count('createOrUpdate')).toBe(7); // the refused one, then six
    expect(stack.azure.count('list')).toBe(3); // read, re-read after the 409, verify
  });

  it('retries a 409 in place once the write made progress, so the event is credited with what it created', async () => {
    const identity = fresh('conflict');
    stack.azure.setFaults({ sequence: ['ok', 'ok', 'conflict', 'conflict'], ops: ['createOrUpdate'] });
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.json.results?.[0]).toMatchObject({ status: 'granted', added: NAMES, present: [] });
    expect(credentials(stack, identity)).toHaveLength(6);
    expect(stack.azure.count('createOrUpdate')).toBe(8);
    expect(stack.azure.count('list')).toBe(2); // read and verify: no re-plan was needed
  });

  it('honours 429 Retry-After in the SDK without losing or repeating a credential', async () => {
    const identity = fresh('throttle');
    stack.azure.setFaults({ sequence: ['throttle', 'ok', 'throttle'], retryAfterSeconds: 0, ops: ['createOrUpdate'] });
    const response = await sendWebhook(stack, azureDeployment({}, identity));
    expect(response.json.results?.[0]).toMatchObject({ status: 'granted' });
    expect(stack.azure.calls.filter((c) => c.status === 429)).toHaveLength(2);
    expect(stack.azure.calls.filter((c) => c.op === 'createOrUpdate' && c.status === 201)).toHaveLength(6);
  });

  it('two instances (no shared lanes) racing on one identity end with every credential and no failure', async () => {
    const identity = fresh('race');
    const a = stack.newInstance();
    const b = stack.newInstance();
    // Latency holds each write's slot long enough for the other instance's writes to overlap it.
    stack.azure.setFaults({ latencyMs: 15 });
    const jobs = [0, 1, 2, 3, 4, 5].map((i) =>
      invokeManual(stack, i % 2 === 0 ? a : b, { deployment: remoteDeployment(100 + i, identity) }),
    );
    const responses = await Promise.all(jobs);
    expect(responses.map((r) => [r.status, r.json.results?.[0]?.status])).toEqual(
      Array.from({ length: 6 }, () => [200, 'granted']),
    );
    const stored = credentials(stack, identity);
    expect(stored).toHaveLength(12);
    expect(new Set(stored.map((c) => c.subject)).size).toBe(12);
    const seen = conflicts();
    // The instances did collide (Azure's 409), and every collision was absorbed (re-plan or in-place retry).
    expect(seen).toBeGreaterThan(0);
    expect(stack.azure.calls.filter((c) => c.status === 409).every((c) => c.op === 'createOrUpdate')).toBe(true);
    expect(stack.azure.calls.filter((c) => c.op === 'createOrUpdate' && c.status === 201)).toHaveLength(12);
    console.log(`two-instance race: ${seen} x 409 ${CONFLICT} absorbed, ${stack.azure.calls.length} ARM calls`);
  });

  it('keeps per-subscription ARM clients for the life of the instance', async () => {
    const runtime = await stack.instance.deps.runtime();
    const sub = '00000000-0000-0000-0000-000000000001';
    expect(runtime.clients.msi(sub)).toBe(runtime.clients.msi(sub.toUpperCase()));
    expect(runtime.clients.msi('00000000-0000-0000-0000-000000000002')).not.toBe(runtime.clients.msi(sub));
  });
});
