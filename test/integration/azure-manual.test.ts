import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { azureHandlerDeps } from '../../functions/azure/handler-deps.ts';
import { createAzureHttpHandlers } from '../../functions/azure/http-handlers.ts';
import { createQueueHandler } from '../../functions/azure/queue-handler.ts';
import { invocationContext } from '../../local/azure-functions-http-server.ts';
import {
  type AzureInstance,
  type AzureStack,
  defaultAzureConfig,
  identityResourceId,
  startAzureStack,
} from '../../local/azure-stack.ts';
import {
  AIRFLOW3_COMPONENTS,
  azureDeployment,
  credentials,
  invokeManual,
  queuedEvent,
} from '../support/azure-fixtures.ts';

const NAMES = AIRFLOW3_COMPONENTS.map((c) => `galactic-drift-4242-${c}`);

describe('Azure manual route', () => {
  let stack: AzureStack;
  let identity: string;
  let count = 0;
  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    count += 1;
    identity = `astro-manual-${count}`;
    stack.seedIdentity(identity);
    stack.azure.setFaults({});
    stack.azure.resetCalls();
  });

  async function post(body: unknown, token = stack.manualToken) {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  /** A second function app instance with other settings, as if deployed with different app settings. */
  function instanceWith(env: Record<string, string>): AzureInstance {
    const deps = azureHandlerDeps({ ...stack.env, ...env });
    const unused = () => Promise.reject(new Error('unused'));
    return { deps, http: createAzureHttpHandlers(deps), enqueue: unused, enqueueRaw: unused };
  }

  it('plans without writing on a dry run', async () => {
    const { status, json } = await post({ deployment: azureDeployment({}, identity), dryRun: true });
    expect(status).toBe(200);
    expect(json).toMatchObject({ dryRun: true, results: [{ cloud: 'azure', status: 'planned', added: NAMES }] });
    expect(stack.azure.calls.map((c) => c.op)).toEqual(['list']);
    expect(credentials(stack, identity)).toEqual([]);
  });

  it('reconciles synchronously, then reports the identity up to date', async () => {
    const first = await post({ deployment: azureDeployment({}, identity) });
    expect(first).toMatchObject({ status: 200, json: { results: [{ status: 'granted', added: NAMES }] } });
    const second = await post({ deployment: azureDeployment({}, identity) });
    expect(second).toMatchObject({ status: 200, json: { results: [{ status: 'unchanged', present: NAMES }] } });
    expect(stack.azure.count('createOrUpdate')).toBe(6);
  });

  it('refuses a wrong token and an identity outside the allowlist without touching ARM', async () => {
    const wrong = await post({ deployment: azureDeployment({}, identity) }, 'not-the-token');
    expect(wrong).toMatchObject({ status: 401, json: { error: { code: 'unauthorized' } } });
    stack.seedIdentity('payments-admin');
    const denied = await post({ deployment: azureDeployment({}, 'payments-admin') });
    expect(denied.status).toBe(422);
    expect(denied.json).toMatchObject({
      results: [{ status: 'denied', reason: expect.stringMatching(/azure\.allowedIdentities/) }],
    });
    expect(stack.azure.calls).toHaveLength(0);
  });

  it('answers 502 naming what to check when the identity does not exist', async () => {
    const { status, json } = await post({
      deployment: azureDeployment({ effectiveWorkloadIdentity: identityResourceId('astro-nowhere') }),
    });
    expect(status).toBe(502);
    expect(json).toMatchObject({
      results: [
        {
          status: 'failed',
          retryable: false,
          reason: expect.stringMatching(/astro-nowhere was not found \(check subscription, resource group, name\)/),
        },
      ],
    });
  });

  it('reports a refused ARM token as a non-retryable failure', async () => {
    const other = instanceWith({ ASTRO_IDENTITY_SYNC_AZURE_TOKEN: 'stale-token' });
    const { status, json } = await invokeManual(stack, other, { deployment: azureDeployment({}, identity) });
    expect(status).toBe(502);
    expect(json.results?.[0]).toMatchObject({ status: 'failed', retryable: false });
    expect(json.results?.[0]?.reason).toMatch(/refused the function's token.*InvalidAuthenticationToken/);
    expect(json.results?.[0]?.reason).not.toContain('stale-token');
  });

  it('on a deletion reports our credentials as stale, and with prune deletes only those, one at a time', async () => {
    stack.azure.putCredential('00000000-0000-0000-0000-000000000001', 'astro-rg', identity, {
      name: 'github-actions',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:acme/infra:ref:refs/heads/main',
    });
    await post({ deployment: azureDeployment({}, identity) });
    const deleted = { deployment: azureDeployment({}, identity), type: 'deployment.deleted' };
    const stale = await post(deleted);
    expect(stale.json).toMatchObject({ results: [{ status: 'stale', added: [], removed: NAMES }] });
    expect(credentials(stack, identity)).toHaveLength(7);

    // Prune needs the Astro API: it confirms the Deployment is gone and that no live one uses the namespace.
    const pruning = instanceWith({
      ASTRO_IDENTITY_SYNC_CONFIG: `${defaultAzureConfig()}prune: true\nastro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }\n`,
    });
    stack.azure.resetCalls();
    const revoked = await invokeManual(stack, pruning, deleted);
    expect(revoked.json.results?.[0]).toMatchObject({ status: 'revoked', added: [], removed: NAMES });
    expect(credentials(stack, identity).map((c) => c.name)).toEqual(['github-actions']);
    expect(stack.azure.count('delete')).toBe(6);
    expect(stack.azure.calls.filter((c) => c.status === 409)).toHaveLength(0);
  });

  it('answers 500 without details for a broken setting, names it in the log, and lets the queue retry', async () => {
    const broken = instanceWith({ ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT: 'http://127.0.0.1:1' });
    const lines: string[] = [];
    const context = invocationContext('manual', { onLog: (line) => void lines.push(line.text) });
    const response = await invokeManual(stack, broken, { deployment: azureDeployment({}, identity) }, { context });
    expect(response).toMatchObject({ status: 500, json: { error: { code: 'internal' } } });
    expect(lines.join('\n')).toMatch(/ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT: must be an https:\/\/ URL/);
    // The queue trigger throws instead, so the host keeps the message (and finally poisons it) until it is fixed.
    const queue = createQueueHandler(broken.deps);
    await expect(queue(queuedEvent(azureDeployment({}, identity)), invocationContext('reconciler'))).rejects.toThrow(
      /must be an https/,
    );
    expect(stack.azure.calls).toHaveLength(0);
  });
});
