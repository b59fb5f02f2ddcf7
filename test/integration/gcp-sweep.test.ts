import { afterEach, describe, expect, it } from 'vitest';
import { type GcpStack, LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { apiDeployment } from '../support/deployments.ts';

const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
const config = (extra = '') => `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: { default: ${LOCAL_POOL} }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
${extra}`;
const deployment = (i: number) =>
  apiDeployment({
    id: `clq2gsw${String(i).padStart(18, '0')}`,
    name: `g-${i}`,
    namespace: `gcp-ns-${i}`,
    cloudProvider: 'GCP',
    effectiveWorkloadIdentity: SA,
    airflowVersion: '3.0.2',
    remoteExecution: { enabled: true },
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
  });
type Policy = { bindings?: Array<{ role: string; members: string[]; condition?: unknown }> };

describe('GCP poller and sweep through Cloud Scheduler -> Pub/Sub -> function', () => {
  let stack: GcpStack;
  afterEach(() => stack?.close());
  const members = () =>
    ((stack.gcp.getPolicy(SA) as Policy).bindings ?? []).find(
      (b) => b.role === 'roles/iam.workloadIdentityUser' && !b.condition,
    )?.members ?? [];

  it('polls new Deployments in, then a converged sweep only reads', async () => {
    stack = await startGcpStack({ config: config() });
    stack.gcp.putServiceAccount(SA);
    for (let i = 0; i < 5; i++) stack.astro.upsert(deployment(i));
    expect(await stack.schedule('poll')).toEqual({ status: 204 });
    expect(members()).toHaveLength(10);
    expect(stack.gcp.count('setIamPolicy')).toBe(1);
    stack.gcp.resetCalls();
    stack.slack.reset();
    await stack.schedule('sweep');
    expect(stack.gcp.count('setIamPolicy')).toBe(0);
    expect(stack.slack.messages).toHaveLength(0);
  });

  it('prunes only the Astro members of a deleted Deployment and keeps a person’s member of that namespace', async () => {
    stack = await startGcpStack({ config: config('prune: true') });
    const personal = `serviceAccount:${LOCAL_POOL}[gcp-ns-2/data-exporter]`;
    stack.gcp.putServiceAccount(SA, { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [personal] }] });
    stack.astro.upsert(deployment(1));
    stack.astro.upsert(deployment(2));
    await stack.schedule('sweep');
    expect(members()).toHaveLength(5);
    stack.astro.remove(deployment(2).id as string);
    await stack.schedule('sweep');
    expect(members()).toEqual(expect.arrayContaining([personal]));
    expect(members().filter((m) => m.includes('[gcp-ns-2/'))).toEqual([personal]);
    expect(members().filter((m) => m.includes('[gcp-ns-1/'))).toHaveLength(2);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/removed 2/);
  });

  it('answers an Astro outage with a failure Pub/Sub retries, with no IAM call and a Slack note', async () => {
    stack = await startGcpStack({ config: config() });
    stack.astro.setFaults({ down: true });
    expect((await stack.schedule('sweep')).status).toBe(500);
    expect(stack.gcp.calls).toHaveLength(0);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/could not run/);
  });
});
