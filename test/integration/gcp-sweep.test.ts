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

  it('grants a DR cluster that appears after the Deployment, though its updatedAt never changed', async () => {
    const drIssuer = 'https://container.googleapis.com/v1/projects/astro-dr/locations/us-west1/clusters/dr';
    const drPool = 'astro-gke-dr.svc.id.goog';
    stack = await startGcpStack({
      config: config().replace(
        `pools: { default: ${LOCAL_POOL} }`,
        `pools: { default: ${LOCAL_POOL}, byIssuer: { "${drIssuer}": ${drPool} } }`,
      ),
    });
    stack.gcp.addPool(drPool);
    stack.gcp.putServiceAccount(SA);
    const old = { createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
    stack.astro.upsert({ ...deployment(7), ...old });
    await stack.schedule('sweep');
    expect(members()).toHaveLength(2);
    // The secondary cluster is created later and the customer points its identity at the same service account:
    // Astro fills both DR fields, and updatedAt stays as it was.
    stack.astro.upsert({ ...deployment(7), ...old, drOidcIssuerUrl: drIssuer, effectiveDRWorkloadIdentity: SA });
    stack.gcp.resetCalls();
    expect(await stack.schedule('poll')).toEqual({ status: 204 });
    expect(stack.gcp.count('setIamPolicy')).toBe(0); // outside the poll's lookback: only the sweep can see it
    stack.slack.reset();
    await stack.schedule('sweep');
    expect(members().filter((m) => m.startsWith(`serviceAccount:${drPool}[gcp-ns-7/`))).toHaveLength(2);
    expect(members()).toHaveLength(4);
    expect(JSON.stringify(stack.slack.messages)).toContain('DR: added 2 members');
  });

  it('answers an Astro outage with a failure Pub/Sub retries, with no IAM call and a Slack note', async () => {
    stack = await startGcpStack({ config: config() });
    stack.astro.setFaults({ down: true });
    expect((await stack.schedule('sweep')).status).toBe(500);
    expect(stack.gcp.calls).toHaveLength(0);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/could not run/);
  });
});
