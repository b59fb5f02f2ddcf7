import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { crc32c } from '../../functions/gcp/crc32c.ts';
import { EMULATOR_TOKEN } from '../../local/gcp-emulator/iam-client.ts';
import { type GcpEmulator, startGcpEmulator } from '../../local/gcp-emulator/server.ts';

// The emulator's Secret Manager routes on the wire, with plain fetch: the shapes the resolver (and any other client)
// relies on.

const SECRET = 'projects/acme-data/secrets/webhook';
const ACCESS = (version: string, secret = SECRET) => `v1/${secret}/versions/${version}:access`;
const bearer = { authorization: `Bearer ${EMULATOR_TOKEN}` };

let emu: GcpEmulator;

async function get(path: string, headers: Record<string, string> = bearer, method = 'GET') {
  const res = await fetch(new URL(path, emu.url), { method, headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  emu = await startGcpEmulator({ projectNumber: '246813579024' });
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.deleteSecret(SECRET);
  emu.setFaults({});
  emu.resetCalls();
});

describe('AccessSecretVersion', () => {
  it('answers {name, payload: {data: base64, dataCrc32c: decimal string}} with the project number and resolved version', async () => {
    expect(emu.putSecret(SECRET, 'first')).toBe(1);
    expect(emu.putSecret(SECRET, 'sécond ✓')).toBe(2);
    const latest = await get(ACCESS('latest'));
    const bytes = Buffer.from('sécond ✓', 'utf8');
    expect(latest).toMatchObject({ status: 200 });
    expect(latest.body).toEqual({
      name: 'projects/246813579024/secrets/webhook/versions/2',
      payload: { data: bytes.toString('base64'), dataCrc32c: String(crc32c(bytes)) },
    });
    expect(latest.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    expect((await get(ACCESS('1'))).body).toMatchObject({ name: 'projects/246813579024/secrets/webhook/versions/1' });
    expect(emu.calls.map((c) => [c.method, c.resource, c.status])).toEqual([
      ['access', `${SECRET}/versions/latest`, 200],
      ['access', `${SECRET}/versions/1`, 200],
    ]);
  });

  it('writes the version asked for, and counts on from the highest', () => {
    expect(emu.putSecret(SECRET, 'x', { version: 5 })).toBe(5);
    expect(emu.putSecret(SECRET, 'y')).toBe(6);
  });

  it('404 NOT_FOUND for a missing secret, a secret without versions, and a missing version', async () => {
    const missing = await get(ACCESS('latest', 'projects/acme-data/secrets/nope'));
    expect(missing).toMatchObject({
      status: 404,
      body: {
        error: {
          code: 404,
          status: 'NOT_FOUND',
          message: 'Secret [projects/246813579024/secrets/nope] not found or has no versions.',
        },
      },
    });
    emu.putSecret(SECRET, 'x');
    expect((await get(ACCESS('9'))).body).toEqual({
      error: {
        code: 404,
        status: 'NOT_FOUND',
        message: 'Secret Version [projects/246813579024/secrets/webhook/versions/9] not found.',
      },
    });
  });

  it('403 PERMISSION_DENIED on a denied secret, before (and regardless of) the lookup', async () => {
    emu.putSecret(SECRET, 'value-that-must-not-leak');
    emu.denySecretAccess(SECRET);
    const denied = await get(ACCESS('latest'));
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: {
        code: 403,
        status: 'PERMISSION_DENIED',
        message: `Permission 'secretmanager.versions.access' denied for resource '${SECRET}/versions/latest' (or it may not exist).`,
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'IAM_PERMISSION_DENIED',
            domain: 'iam.googleapis.com',
            metadata: { permission: 'secretmanager.versions.access', resource: `${SECRET}/versions/latest` },
          },
        ],
      },
    });
    expect(JSON.stringify(denied.body)).not.toContain('value-that-must-not-leak');
    expect((await get(ACCESS('7'))).status).toBe(403);
    emu.denySecretAccess(SECRET, false);
    expect((await get(ACCESS('latest'))).status).toBe(200);
  });

  it('400 FAILED_PRECONDITION for a disabled or destroyed version; latest is the newest whatever its state', async () => {
    emu.putSecret(SECRET, 'a');
    emu.putSecret(SECRET, 'b', { state: 'DISABLED' });
    expect((await get(ACCESS('latest'))).body).toEqual({
      error: {
        code: 400,
        status: 'FAILED_PRECONDITION',
        message: 'Secret Version [projects/246813579024/secrets/webhook/versions/2] is in DISABLED state.',
      },
    });
    emu.setSecretVersionState(SECRET, 1, 'DESTROYED');
    expect((await get(ACCESS('1'))).body).toMatchObject({ error: { message: expect.stringContaining('DESTROYED') } });
  });

  it('checks the bearer token like the IAM routes, naming Secret Manager', async () => {
    emu.putSecret(SECRET, 'x');
    const none = await get(ACCESS('latest'), {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="https://accounts.google.com/"');
    expect(none.body).toMatchObject({
      error: {
        status: 'UNAUTHENTICATED',
        details: [
          {
            reason: 'CREDENTIALS_MISSING',
            metadata: {
              service: 'secretmanager.googleapis.com',
              method: 'google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion',
            },
          },
        ],
      },
    });
    expect((await get(ACCESS('latest'), { authorization: 'Bearer nope' })).status).toBe(401);
  });

  it('routes GET only', async () => {
    emu.putSecret(SECRET, 'x');
    expect((await get(ACCESS('latest'), bearer, 'POST')).status).toBe(404);
  });

  it('injects faults on the access method: 429, 503, 500', async () => {
    emu.putSecret(SECRET, 'x');
    emu.setFaults({ sequence: ['rate-limit', 'server-error', 'internal-error'], methods: ['access'] });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await get(ACCESS('latest'))).status);
    expect(statuses).toEqual([429, 503, 500, 200]);
  });

  it('corrupts payloads on request: the bytes stop matching dataCrc32c', async () => {
    emu.putSecret(SECRET, 'intact');
    emu.corruptSecret(SECRET, 1);
    const corrupted = (await get(ACCESS('latest'))).body as { payload: { data: string; dataCrc32c: string } };
    expect(String(crc32c(Buffer.from(corrupted.payload.data, 'base64')))).not.toBe(corrupted.payload.dataCrc32c);
    const intact = (await get(ACCESS('latest'))).body as { payload: { data: string; dataCrc32c: string } };
    expect(String(crc32c(Buffer.from(intact.payload.data, 'base64')))).toBe(intact.payload.dataCrc32c);
  });
});
