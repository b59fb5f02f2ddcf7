import type { cloudresourcemanager_v3 } from '@googleapis/cloudresourcemanager/build/v3.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { googleCallError as failure, iamClientFor } from '../../local/gcp-emulator/iam-client.ts';
import { resourceManagerClientFor } from '../../local/gcp-emulator/resource-manager-client.ts';
import { type GcpEmulator, startGcpEmulator } from '../../local/gcp-emulator/server.ts';

// Cloud Resource Manager v3 project policies in the GCP emulator, through the real @googleapis/cloudresourcemanager
// client: wire format, permissions, etags, versions and conditions, audit configs, limits and faults.

type Policy = cloudresourcemanager_v3.Schema$Policy;
const PROJECT = 'acme-analytics';
const RESOURCE = `projects/${PROJECT}`;
const SA = 'astro-sync@customer-proj.iam.gserviceaccount.com';
const ASTRO = 'serviceAccount:astro-nebular-gravity-1234@astro-prod-123.iam.gserviceaccount.com';
const OWNER = { role: 'roles/owner', members: ['user:owner@example.com'] };
const condition = { title: 'until 2030', expression: "request.time < timestamp('2030-01-01T00:00:00Z')" };
const conditional = { role: 'roles/storage.objectViewer', members: ['group:analysts@example.com'], condition };
const auditConfigs = [
  { service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }, { logType: 'ADMIN_READ' }] },
];

let emu: GcpEmulator;
let client: cloudresourcemanager_v3.Cloudresourcemanager;
beforeAll(async () => {
  emu = await startGcpEmulator();
  client = resourceManagerClientFor(emu);
});
afterAll(() => emu.close());
beforeEach(() => {
  emu.setFaults({});
  emu.putProject(PROJECT);
  emu.denyProjectAccess(PROJECT, []);
  emu.resetCalls();
});

async function read(version = 3, project = PROJECT): Promise<Policy> {
  const resource = `projects/${project}`;
  return (
    await client.projects.getIamPolicy({ resource, requestBody: { options: { requestedPolicyVersion: version } } })
  ).data;
}
async function write(policy: Policy, updateMask?: string, project = PROJECT): Promise<Policy> {
  const requestBody = updateMask === undefined ? { policy } : { policy, updateMask };
  return (await client.projects.setIamPolicy({ resource: `projects/${project}`, requestBody })).data;
}

describe('wire protocol of the real v3 client', () => {
  it('sends POST /v3/projects/<id>:getIamPolicy with the version in the body, and answers the seeded policy', async () => {
    const policy = await read();
    expect(policy).toEqual({ version: 1, etag: expect.stringMatching(/^Bw[A-Za-z0-9+/]{9}=$/), bindings: [OWNER] });
    expect(emu.calls).toEqual([
      expect.objectContaining({
        service: 'cloudresourcemanager',
        method: 'getIamPolicy',
        project: PROJECT,
        resource: RESOURCE,
        email: '',
        status: 200,
        body: { options: { requestedPolicyVersion: 3 } },
        query: {},
      }),
    ]);
    expect(emu.count('getIamPolicy', 'cloudresourcemanager')).toBe(1);
    expect(emu.count('getIamPolicy', 'iam')).toBe(0);
  });

  it('answers a request without credentials 401 and an unknown verb 501, both before touching the policy', async () => {
    const res = await fetch(new URL(`v3/${RESOURCE}:getIamPolicy`, emu.url), { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { status: 'UNAUTHENTICATED' } });
    const other = await failure(client.projects.testIamPermissions({ resource: RESOURCE, requestBody: {} }));
    expect(other).toMatchObject({ status: 501 });
  });
});

describe('permissions', () => {
  it('answers 403 naming resourcemanager.projects.getIamPolicy for a project it does not hold', async () => {
    const error = await failure(read(3, 'not-seeded-project'));
    expect(error).toMatchObject({ status: 403, rpcStatus: 'PERMISSION_DENIED' });
    expect(error.message).toBe(
      "Permission 'resourcemanager.projects.getIamPolicy' denied on resource " +
        "'//cloudresourcemanager.googleapis.com/projects/not-seeded-project' (or it may not exist).",
    );
  });

  it('can take setIamPolicy alone away (read works, write 403 naming setIamPolicy), and give it back', async () => {
    emu.denyProjectAccess(PROJECT, ['setIamPolicy']);
    const policy = await read();
    const error = await failure(write({ ...policy, bindings: [OWNER, { role: 'roles/browser', members: [ASTRO] }] }));
    expect(error).toMatchObject({ status: 403 });
    expect(error.message).toMatch(/^Permission 'resourcemanager\.projects\.setIamPolicy' denied/);
    emu.denyProjectAccess(PROJECT, []);
    await expect(write({ ...policy, bindings: [OWNER] })).resolves.toMatchObject({ bindings: [OWNER] });
  });
});

describe('read-modify-write with etags', () => {
  it('issues a fresh etag per write and refuses a stale one with 409 ABORTED, naming both etags', async () => {
    const first = await read();
    const added = { role: 'roles/bigquery.dataViewer', members: [ASTRO] };
    const second = await write({ ...first, bindings: [OWNER, added] });
    expect(second.etag).not.toBe(first.etag);
    expect(second.bindings).toEqual([OWNER, added]);
    const error = await failure(write({ ...first, bindings: [OWNER] }));
    expect(error).toMatchObject({ status: 409, rpcStatus: 'ABORTED' });
    expect(error.message).toMatch(
      /^There were concurrent policy changes\. Please retry the whole read-modify-write with exponential backoff\. The request's ETag '.+' did not match the current policy's ETag '.+'\.$/,
    );
    expect((emu.getProjectPolicy(PROJECT) as Policy).bindings).toEqual([OWNER, added]);
  });

  it('accepts a write without an etag as a blind overwrite, and logs it as one', async () => {
    await write({ bindings: [OWNER] });
    expect(emu.calls.at(-1)).toMatchObject({ method: 'setIamPolicy', status: 200, blindWrite: true });
  });
});

describe('policy versions, conditions and audit configs', () => {
  it('requires version 3 to write a conditional binding, and keeps it', async () => {
    const base = await read();
    const v1 = await failure(write({ ...base, version: 1, bindings: [OWNER, conditional] }));
    expect(v1).toMatchObject({ status: 400, rpcStatus: 'INVALID_ARGUMENT' });
    expect(v1.message).toMatch(/set the policy version to 3/);
    const v3 = await write({ ...base, version: 3, bindings: [OWNER, conditional] });
    expect(v3).toMatchObject({ version: 3, bindings: [OWNER, conditional] });
    expect(await read(3)).toEqual(v3);
  });

  it('downgrades a conditional policy read below version 3 (renamed roles, no conditions) and refuses that back', async () => {
    emu.putProject(PROJECT, { version: 3, bindings: [OWNER, conditional] });
    const v1 = await read(1);
    expect(v1.version).toBe(1);
    expect(v1.bindings?.[0]).toEqual(OWNER);
    expect(v1.bindings?.[1]).toEqual({
      role: expect.stringMatching(/^roles\/storage\.objectViewer_withcond_[0-9a-f]{20}$/),
      members: ['group:analysts@example.com'],
    });
    expect(await failure(write(v1))).toMatchObject({ status: 400 });
    expect(await failure(write({ ...v1, bindings: [OWNER] }))).toMatchObject({ status: 400 });
    expect((emu.getProjectPolicy(PROJECT) as Policy).bindings).toEqual([OWNER, conditional]);
  });

  it('keeps auditConfigs under the default mask and bindings,etag; replaces them only when the mask names them', async () => {
    emu.putProject(PROJECT, { bindings: [OWNER], auditConfigs });
    const read1 = await read();
    expect(read1.auditConfigs).toEqual(auditConfigs);
    const { auditConfigs: _dropped, ...withoutAudit } = read1;
    const kept = await write({ ...withoutAudit, bindings: [OWNER, { role: 'roles/browser', members: [ASTRO] }] });
    expect(kept.auditConfigs).toEqual(auditConfigs);
    const masked = await write({ ...kept, auditConfigs: [] }, 'bindings,etag');
    expect(masked.auditConfigs).toEqual(auditConfigs);
    const replaced = await write({ ...masked, auditConfigs: [{ service: 'storage.googleapis.com' }] }, 'auditConfigs');
    expect(replaced.auditConfigs).toEqual([{ service: 'storage.googleapis.com' }]);
    expect(await failure(write(replaced, 'bindings,owners'))).toMatchObject({ status: 400 });
  });
});

describe('what a project refuses', () => {
  it('allows 1,500 members and refuses 1,501 with the size in the message', async () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `user:person${i}@example.com`);
    const full = await write({ ...(await read()), bindings: [{ role: 'roles/viewer', members: members(1500) }] });
    expect(full.bindings?.[0]?.members).toHaveLength(1500);
    const error = await failure(write({ ...full, bindings: [{ role: 'roles/viewer', members: members(1501) }] }));
    expect(error).toMatchObject({
      status: 400,
      message: 'The number of members in the policy (1501) is larger than the maximum allowed size 1500.',
    });
  });

  it('refuses allUsers and allAuthenticatedUsers on a project (a service account takes them)', async () => {
    const base = await read();
    for (const member of ['allUsers', 'allAuthenticatedUsers']) {
      const error = await failure(write({ ...base, bindings: [OWNER, { role: 'roles/browser', members: [member] }] }));
      expect(error).toMatchObject({ status: 400, rpcStatus: 'INVALID_ARGUMENT' });
    }
    emu.putServiceAccount(SA);
    const iam = iamClientFor(emu);
    const resource = `projects/-/serviceAccounts/${SA}`;
    const policy = (await iam.projects.serviceAccounts.getIamPolicy({ resource })).data;
    const bindings = [{ role: 'roles/iam.serviceAccountTokenCreator', members: ['allUsers'] }];
    await expect(
      iam.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: { ...policy, bindings } } }),
    ).resolves.toBeDefined();
  });
});

describe('faults', () => {
  it('injects 429 and 5xx into Resource Manager alone when the faults name it', async () => {
    emu.putServiceAccount(SA);
    const iam = iamClientFor(emu);
    emu.setFaults({ rateLimitRate: 1, services: ['cloudresourcemanager'] });
    const error = await failure(read());
    expect(error).toMatchObject({ status: 429, rpcStatus: 'RESOURCE_EXHAUSTED' });
    expect(error.message).toMatch(/of service 'cloudresourcemanager\.googleapis\.com'/);
    await expect(
      iam.projects.serviceAccounts.getIamPolicy({ resource: `projects/-/serviceAccounts/${SA}` }),
    ).resolves.toBeDefined();
    emu.setFaults({ sequence: ['server-error', 'internal-error'], services: ['cloudresourcemanager'] });
    expect(await failure(read())).toMatchObject({ status: 503, rpcStatus: 'UNAVAILABLE' });
    expect(await failure(read())).toMatchObject({ status: 500, rpcStatus: 'INTERNAL' });
    await expect(read()).resolves.toBeDefined();
  });

  it('a concurrent writer after a read makes the following write 409; a fresh read-modify-write keeps both', async () => {
    emu.setFaults({ concurrentWriterRate: 1, services: ['cloudresourcemanager'] });
    const stale = await read();
    const ours = { role: 'roles/bigquery.dataViewer', members: [ASTRO] };
    expect(await failure(write({ ...stale, bindings: [...(stale.bindings ?? []), ours] }))).toMatchObject({
      status: 409,
    });
    expect(emu.calls.map((c) => [c.service, c.method, c.status])).toEqual([
      ['cloudresourcemanager', 'getIamPolicy', 200],
      ['cloudresourcemanager', 'concurrentWrite', 200],
      ['cloudresourcemanager', 'setIamPolicy', 409],
    ]);
    emu.setFaults({});
    const fresh = await read();
    const result = await write({ ...fresh, bindings: [...(fresh.bindings ?? []), ours] });
    expect(result.bindings).toEqual([
      OWNER,
      { role: 'roles/browser', members: ['user:concurrent-writer-1@example.com'] },
      ours,
    ]);
  });

  it('scripts racing writers with concurrentWrites: exactly the next N reads are raced, then none', async () => {
    emu.setFaults({ concurrentWrites: 2, services: ['cloudresourcemanager'] });
    for (let i = 0; i < 4; i++) await read();
    expect(emu.calls.map((c) => c.method)).toEqual([
      'getIamPolicy',
      'concurrentWrite',
      'getIamPolicy',
      'concurrentWrite',
      'getIamPolicy',
      'getIamPolicy',
    ]);
  });
});
