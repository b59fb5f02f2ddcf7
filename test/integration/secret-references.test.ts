import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AzureStack, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION, startAzureStack } from '../../local/azure-stack.ts';
import { type GcpStack, LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import { deploymentEvent } from '../support/deployments.ts';

/**
 * `gcp-sm:` and `azure-kv:` references through the functions' own cold start: the config names where each secret
 * is, the adapter reads it with the function's credentials, and a webhook signed with that secret is accepted.
 */
const body = JSON.stringify(
  deploymentEvent({
    id: 'clq2secret000000000000001',
    name: 'secret-refs',
    namespace: 'secret-refs-1234',
    organizationId: 'clorg0000000000000000000',
    airflowVersion: '3.0.2',
  }),
);
const post = (url: string, secret: string) =>
  fetch(url, { method: 'POST', headers: signWebhook({ secret, id: `msg_ref_${Date.now()}`, body }), body });

describe('gcp-sm: references', () => {
  let stack: GcpStack;
  beforeAll(async () => {
    stack = await startGcpStack({
      config: `webhook: { secrets: ["gcp-sm:projects/acme-platform/secrets/webhook-secret"] }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: { default: ${LOCAL_POOL} }
`,
    });
    stack.gcp.putSecret('projects/acme-platform/secrets/webhook-secret', stack.webhookSecret);
  });
  afterAll(() => stack.close());

  it('reads the webhook secret from Secret Manager at cold start', async () => {
    const response = await post(stack.webhookUrl, stack.webhookSecret);
    // Authenticated with the secret Secret Manager holds: the event itself then has no target here.
    expect(response.status).toBe(200);
    expect(stack.gcp.calls.filter((c) => c.method === 'access')).toHaveLength(1);
    const wrong = await post(stack.webhookUrl, `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`);
    expect(wrong.status).toBe(401);
  });
});

describe('azure-kv: references', () => {
  let stack: AzureStack;
  beforeAll(async () => {
    stack = await startAzureStack({
      config: `webhook: { secrets: ["azure-kv:https://astro-kv.vault.azure.net/secrets/webhook-secret"] }
azure: { allowedIdentities: ["${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/astro-*"] }
`,
    });
    stack.azure.putSecret('astro-kv', 'webhook-secret', stack.webhookSecret);
  });
  afterAll(() => stack.close());

  it('reads the webhook secret from Key Vault at cold start with the function app identity', async () => {
    const response = await post(stack.webhookUrl, stack.webhookSecret);
    expect(response.status).toBe(200);
    const wrong = await post(stack.webhookUrl, `whsec_${Buffer.from('y'.repeat(32)).toString('base64')}`);
    expect(wrong.status).toBe(401);
  });

  it('answers 500 without details when the secret does not exist, and names it in the log', async () => {
    const broken = await startAzureStack({
      config: `webhook: { secrets: ["azure-kv:https://astro-kv.vault.azure.net/secrets/missing"] }\n`,
    });
    try {
      const response = await post(broken.webhookUrl, broken.webhookSecret);
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({
        error: { code: 'internal', message: 'Internal error; see the function logs.' },
      });
      expect(broken.logs.map((l) => l.text).join('\n')).toMatch(/webhook\.secrets\.0: .*missing/);
    } finally {
      await broken.close();
    }
  });
});
