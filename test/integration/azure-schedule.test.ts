import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTimerHandler } from '../../functions/azure/timer-handler.ts';
import { invocationContext } from '../../local/azure-functions-http-server.ts';
import { type AzureStack, LOCAL_RESOURCE_GROUP, LOCAL_SUBSCRIPTION, startAzureStack } from '../../local/azure-stack.ts';
import { credentials, remoteDeployment } from '../support/azure-fixtures.ts';

const config = `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
azure: { allowedIdentities: ["${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/astro-*"] }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`;

const tick = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: '', next: '', lastUpdated: '' },
};

describe('Azure timer triggers (Astro API as the source of truth)', () => {
  let stack: AzureStack;
  beforeAll(async () => {
    stack = await startAzureStack({ config });
    stack.seedIdentity('astro-poll');
  });
  afterAll(() => stack.close());

  it('polls: grants Deployments updated in the window without any webhook, then the sweep repairs drift', async () => {
    const now = new Date().toISOString();
    for (const i of [1, 2, 3]) stack.astro.upsert({ ...remoteDeployment(i, 'astro-poll'), updatedAt: now });
    const poll = createTimerHandler(stack.instance.deps, 'poll');
    const summary = await poll(tick, invocationContext('poll'));
    expect(summary).toMatchObject({ task: 'poll', deployments: 3 });
    expect(credentials(stack, 'astro-poll')).toHaveLength(6);
    expect(stack.azure.calls.filter((c) => c.status === 409)).toHaveLength(0);

    // Someone deletes a credential by hand; the hourly sweep puts it back.
    stack.azure.resetCalls();
    const client = (await stack.instance.deps.runtime()).clients.msi(LOCAL_SUBSCRIPTION);
    await client.federatedIdentityCredentials.delete(LOCAL_RESOURCE_GROUP, 'astro-poll', 'remote-orbit-1002-scheduler');
    expect(credentials(stack, 'astro-poll')).toHaveLength(5);
    const sweep = await createTimerHandler(stack.instance.deps, 'sweep')(tick, invocationContext('sweep'));
    expect(sweep.task).toBe('sweep');
    expect(credentials(stack, 'astro-poll').map((c) => c.name)).toContain('remote-orbit-1002-scheduler');
    expect(stack.azure.count('createOrUpdate')).toBe(1);
  });
});
