import { describe, expect, it } from 'vitest';
import { EMULATOR_TOKEN, googleCallError as failure, iamClientFor } from '../../local/gcp-emulator/iam-client.ts';
import { useGcpEmulator } from '../support/gcp-emulator-suite.ts';

// The GCP IAM emulator driven by the real @googleapis/iam client: wire format, etags, authentication, extra fields.
// What a failed call throws is described (and extracted) by googleCallError in local/gcp-emulator/iam-client.ts.

const SA = 'astro-sync+gcp@customer-proj.iam.gserviceaccount.com';
const RESOURCE = `projects/-/serviceAccounts/${SA}`;
const WI_ROLE = 'roles/iam.workloadIdentityUser';
const POOL = 'astro-gke-prod.svc.id.goog';
const ksa = (ns: string, name = `${ns}-worker-serviceaccount`) => `serviceAccount:${POOL}[${ns}/${name}]`;
const principal = (pool: string, ns: string) =>
  `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${pool}/subject/ns/${ns}/sa/${ns}-kpo`;

const { suite, read, write } = useGcpEmulator(SA);

async function raw(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(new URL(path, suite.emu.url), { method: 'POST', ...init });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const bearer = { authorization: `Bearer ${EMULATOR_TOKEN}`, 'content-type': 'application/json' };

describe('wire protocol of the real client', () => {
  it('sends POST .../serviceAccounts/<raw email>:getIamPolicy?options.requestedPolicyVersion=3 with no body', async () => {
    const policy = await read();
    expect(policy).toEqual({ version: 1, etag: expect.stringMatching(/^Bw[A-Za-z0-9+/]{9}=$/) });
    expect(suite.emu.calls).toEqual([
      expect.objectContaining({
        method: 'getIamPolicy',
        email: SA,
        status: 200,
        body: {},
        query: { 'options.requestedPolicyVersion': '3' },
        blindWrite: false,
      }),
    ]);
  });

  it('accepts a percent-encoded email, a project id, and the version in the JSON body', async () => {
    const path = `v1/projects/customer-proj/serviceAccounts/${encodeURIComponent(SA)}:getIamPolicy`;
    const body = JSON.stringify({ options: { requestedPolicyVersion: 3 } });
    const res = await raw(path, { headers: bearer, body });
    expect(res.status).toBe(200);
    expect(suite.emu.calls[0]).toMatchObject({ email: SA, body: { options: { requestedPolicyVersion: 3 } } });
    const bad = await raw(path, { headers: bearer, body: JSON.stringify({ options: { requestedPolicyVersion: 2 } }) });
    expect(bad.status).toBe(400);
  });

  it('answers unknown routes with a Google-style 404', async () => {
    const res = await raw('v1/projects/-/serviceAccounts', { headers: bearer });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});

describe('read-modify-write with etags', () => {
  it('round-trips a policy and issues a fresh etag on every write', async () => {
    const before = await read();
    const members = [ksa('ns2'), ksa('ns1'), principal(POOL, 'ns3')];
    const written = await write({ ...before, version: 3, bindings: [{ role: WI_ROLE, members }] });
    expect(written.etag).not.toBe(before.etag);
    // No conditions: IAM answers version 1 whatever version was written; member order is kept as sent.
    expect(written).toEqual({ version: 1, etag: written.etag, bindings: [{ role: WI_ROLE, members }] });
    expect(await read()).toEqual(written);
    expect(suite.emu.getPolicy(SA)).toEqual(written);
    const again = await write(written);
    expect(again.etag).not.toBe(written.etag);
    expect(suite.emu.calls.map((c) => [c.method, c.status])).toEqual([
      ['getIamPolicy', 200],
      ['setIamPolicy', 200],
      ['getIamPolicy', 200],
      ['setIamPolicy', 200],
    ]);
    expect(suite.emu.calls[1]?.body).toEqual({
      policy: { version: 3, etag: before.etag, bindings: [{ role: WI_ROLE, members }] },
    });
  });

  it('rejects a stale etag with 409 ABORTED, which the client does not retry', async () => {
    const stale = await read();
    await write({ ...stale, bindings: [{ role: WI_ROLE, members: [ksa('ns1')] }] });
    const error = await failure(write({ ...stale, bindings: [{ role: WI_ROLE, members: [ksa('ns2')] }] }));
    expect(error).toEqual({
      gaxios: true,
      status: 409,
      responseStatus: 409,
      code: 409,
      message:
        'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
      rpcStatus: 'ABORTED',
      body: { error: { code: 409, status: 'ABORTED', message: error.message } },
    });
    expect(suite.emu.count('setIamPolicy')).toBe(2);
    expect(suite.emu.getPolicy(SA)).toMatchObject({ bindings: [{ role: WI_ROLE, members: [ksa('ns1')] }] });
  });

  it('accepts a write without an etag (blind write) and flags it in the call log', async () => {
    const result = await write({ bindings: [{ role: WI_ROLE, members: [ksa('ns1')] }] });
    expect(result.bindings).toEqual([{ role: WI_ROLE, members: [ksa('ns1')] }]);
    expect(suite.emu.calls.map((c) => c.blindWrite)).toEqual([true]);
    await write({ ...(await read()), bindings: [] });
    expect(suite.emu.calls.filter((c) => c.method === 'setIamPolicy').map((c) => c.blindWrite)).toEqual([true, false]);
  });
});

describe('authentication and existence', () => {
  it('answers 403 PERMISSION_DENIED (not 404) for an unknown service account', async () => {
    const resource = 'projects/-/serviceAccounts/nobody@customer-proj.iam.gserviceaccount.com';
    const get = await failure(suite.client.projects.serviceAccounts.getIamPolicy({ resource }));
    expect(get).toMatchObject({ status: 403, rpcStatus: 'PERMISSION_DENIED' });
    expect(get.message).toBe("Permission 'iam.serviceAccounts.getIamPolicy' denied on resource (or it may not exist).");
    const set = await failure(
      suite.client.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: {} } }),
    );
    expect(set.message).toBe("Permission 'iam.serviceAccounts.setIamPolicy' denied on resource (or it may not exist).");
    expect(set.body?.error?.details).toEqual([expect.objectContaining({ reason: 'IAM_PERMISSION_DENIED' })]);
  });

  it('answers 401 UNAUTHENTICATED for a wrong token (no refresh retry) and for a missing one', async () => {
    const wrong = await failure(read(3, iamClientFor(suite.emu, 'ya29.wrong')));
    expect(wrong).toMatchObject({ gaxios: true, status: 401, rpcStatus: 'UNAUTHENTICATED' });
    expect(wrong.message).toMatch(/^Request had invalid authentication credentials\./);
    expect(suite.emu.calls).toHaveLength(1);
    const missing = await raw(`v1/${RESOURCE}:getIamPolicy`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer realm=');
    expect(missing.body).toMatchObject({
      error: {
        code: 401,
        status: 'UNAUTHENTICATED',
        details: [expect.objectContaining({ reason: 'CREDENTIALS_MISSING' })],
      },
    });
  });
});

describe('fields beyond bindings', () => {
  const auditConfigs = [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }];

  it('returns stored auditConfigs and keeps them when a write leaves them out (default mask bindings,etag)', async () => {
    suite.emu.putServiceAccount(SA, { version: 1, auditConfigs, bindings: [{ role: WI_ROLE, members: [ksa('a')] }] });
    const policy = await read();
    expect(policy.auditConfigs).toEqual(auditConfigs);
    const written = await write({ etag: policy.etag ?? null, bindings: [{ role: WI_ROLE, members: [ksa('b')] }] });
    expect(written.auditConfigs).toEqual(auditConfigs);
    const request = { policy: { etag: written.etag ?? null, auditConfigs: [] }, updateMask: 'auditConfigs' };
    const cleared = await suite.client.projects.serviceAccounts.setIamPolicy({
      resource: RESOURCE,
      requestBody: request,
    });
    expect(cleared.data).toEqual({
      version: 1,
      etag: cleared.data.etag,
      bindings: [{ role: WI_ROLE, members: [ksa('b')] }],
      auditConfigs: [],
    });
  });

  it('rejects JSON names the Policy message does not have, like Google front ends do', async () => {
    const policy = { ...(await read()), bindings: [], labels: { a: 'b' } };
    const res = await raw(`v1/${RESOURCE}:setIamPolicy`, { headers: bearer, body: JSON.stringify({ policy }) });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      error: {
        status: 'INVALID_ARGUMENT',
        message: `Invalid JSON payload received. Unknown name "labels" at 'policy': Cannot find field.`,
      },
    });
  });
});
