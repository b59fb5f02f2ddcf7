import { afterEach, describe, expect, it } from 'vitest';
import { type GcpStack, LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { type HoustonEmulator, startHoustonEmulator } from '../../local/houston-emulator/server.ts';

// Astronomer Software on GKE through the real GCP schedule function: the pool comes from software.clusters alone
// (gcp.pools is empty), the members are the Airflow chart's service accounts.

const SA = 'astro-software@acme-data.iam.gserviceaccount.com';
const config = `software:
  baseDomain: astro.acme.example
  token: env:HOUSTON_TOKEN
  clusters:
    gke-prod: { pool: ${LOCAL_POOL}, cloudProvider: GCP }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
targets:
  - name: software-data
    match: { cloudProviders: [GCP], releaseNames: ["*"] }
    gcp: { serviceAccount: ${SA} }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`;
type Policy = { bindings?: Array<{ role: string; members: string[]; condition?: unknown }> };

let stack: GcpStack | undefined;
let houston: HoustonEmulator | undefined;
afterEach(async () => {
  await stack?.close();
  await houston?.close();
  stack = undefined;
  houston = undefined;
});

describe('Astronomer Software on GCP (Houston -> poll -> workloadIdentityUser)', () => {
  it('grants the chart accounts of the GKE pool software.clusters names, then a sweep only reads', async () => {
    houston = await startHoustonEmulator({ token: 'houston-token' });
    stack = await startGcpStack({
      config,
      env: { HOUSTON_TOKEN: 'houston-token', ASTRO_IDENTITY_SYNC_HOUSTON_URL: houston.url },
    });
    stack.gcp.putServiceAccount(SA, {
      version: 1,
      bindings: [{ role: 'roles/iam.serviceAccountUser', members: ['group:data@acme.example'] }],
    });
    houston.upsert({
      id: '00000000-0000-4000-8000-000000000042',
      label: 'Warehouse loads',
      releaseName: 'weightless-meteor-5042',
      namespace: 'astronomer-weightless-meteor-5042',
      clusterId: 'gke-prod',
      workspace: { id: '22222222-2222-4222-8222-222222222222' },
      runtimeVersion: '12.4.0',
    });
    expect(await stack.schedule('poll')).toEqual({ status: 204 });
    const policy = stack.gcp.getPolicy(SA) as Policy;
    const members = policy.bindings?.find((b) => b.role === 'roles/iam.workloadIdentityUser')?.members ?? [];
    expect(members).toContain(
      `serviceAccount:${LOCAL_POOL}[astronomer-weightless-meteor-5042/weightless-meteor-5042-airflow-worker]`,
    );
    expect(members).toHaveLength(5);
    expect(policy.bindings).toContainEqual({
      role: 'roles/iam.serviceAccountUser',
      members: ['group:data@acme.example'],
    });
    const writes = stack.gcp.count('setIamPolicy');
    await stack.schedule('sweep');
    expect(stack.gcp.count('setIamPolicy')).toBe(writes);
  });
});
