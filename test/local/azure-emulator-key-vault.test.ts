import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureEmulator, startAzureEmulator } from '../../local/azure-emulator/server.ts';
import { rawRequest } from '../../local/azure-emulator/test-support.ts';

// The emulator's Key Vault routes on the wire, with plain HTTPS requests: the challenge, the secret bundle and
// Key Vault's error bodies.

const API = 'api-version=2026-04-01';
const VAULT = 'acme-kv';

let emu: AzureEmulator;
let bearer: Record<string, string>;

const path = (name: string, version = '', query = API) => `/keyvault/${VAULT}/secrets/${name}/${version}?${query}`;

beforeAll(async () => {
  emu = await startAzureEmulator({ tenantId: '11111111-2222-3333-4444-555555555555' });
  bearer = { authorization: `Bearer ${emu.token}` };
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.setFaults({});
  emu.resetCalls();
});

describe('Key Vault secrets', () => {
  it('serves vaults under <keyVaultEndpoint>/<vault>', () => {
    expect(emu.keyVaultEndpoint).toBe(`${emu.url}/keyvault`);
  });

  it('answers a request without a token with the 401 challenge the SDK follows', async () => {
    emu.putSecret(VAULT, 'challenge', 'x');
    const res = await rawRequest(emu, path('challenge'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer authorization="https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555", resource="https://vault.azure.net"',
    );
    expect(res.json).toEqual({
      error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
    });
    const wrong = await rawRequest(emu, path('challenge'), { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toContain('resource="https://vault.azure.net"');
  });

  it('answers {value, id, attributes} for the current version and a pinned one', async () => {
    const first = emu.putSecret(VAULT, 'Bundle', 'one');
    const second = emu.putSecret(VAULT, 'bundle', 'two');
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    const current = await rawRequest(emu, path('bundle'), bearer);
    expect(current.status).toBe(200);
    expect(current.json).toEqual({
      value: 'two',
      // The canonical identifier with the vault's real host; names keep the spelling they were created with.
      id: `https://${VAULT}.vault.azure.net/secrets/Bundle/${second}`,
      attributes: {
        enabled: true,
        created: expect.any(Number),
        updated: expect.any(Number),
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
    });
    expect((await rawRequest(emu, path('BUNDLE', first), bearer)).json).toMatchObject({ value: 'one' });
    expect((await rawRequest(emu, `/keyvault/${VAULT}/secrets/bundle?${API}`, bearer)).json).toMatchObject({
      value: 'two',
    });
    expect(emu.calls.map((c) => [c.op, c.vault, c.name, c.version, c.status])).toEqual([
      ['getSecret', VAULT, 'bundle', undefined, 200],
      ['getSecret', VAULT, 'BUNDLE', first, 200],
      ['getSecret', VAULT, 'bundle', undefined, 200],
    ]);
  });

  it('404 SecretNotFound for a missing secret or version', async () => {
    emu.putSecret(VAULT, 'present', 'x');
    const missing = await rawRequest(emu, path('absent'), bearer);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      error: {
        code: 'SecretNotFound',
        message:
          'A secret with (name/id) absent was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182',
      },
    });
    const version = 'a'.repeat(32);
    expect((await rawRequest(emu, path('present', version), bearer)).json).toMatchObject({
      error: { code: 'SecretNotFound', message: expect.stringContaining(`(name/id) present/${version} was not found`) },
    });
  });

  it('403 Forbidden (ForbiddenByRbac) on a denied secret, without its value', async () => {
    emu.putSecret(VAULT, 'denied', 'value-that-must-not-leak');
    emu.denySecretAccess(VAULT, 'denied');
    const res = await rawRequest(emu, path('denied'), bearer);
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({
      error: {
        code: 'Forbidden',
        message: expect.stringMatching(/^Caller is not authorized to perform action on resource\./),
        innererror: { code: 'ForbiddenByRbac' },
      },
    });
    expect(JSON.stringify(res.json)).not.toContain('value-that-must-not-leak');
    // Authorization comes before the lookup: a secret that does not exist is refused the same way.
    emu.denySecretAccess('closed-kv');
    expect((await rawRequest(emu, `/keyvault/closed-kv/secrets/whatever/?${API}`, bearer)).status).toBe(403);
  });

  it('403 SecretDisabled on a disabled version', async () => {
    emu.putSecret(VAULT, 'disabled', 'x', { enabled: false });
    expect((await rawRequest(emu, path('disabled'), bearer)).json).toEqual({
      error: {
        code: 'Forbidden',
        message: 'Operation get is not allowed on a disabled secret.',
        innererror: { code: 'SecretDisabled' },
      },
    });
  });

  it('400 BadParameter for an unknown or missing api-version', async () => {
    emu.putSecret(VAULT, 'v', 'x');
    expect((await rawRequest(emu, path('v', '', 'api-version=1999-01-01'), bearer)).json).toEqual({
      error: {
        code: 'BadParameter',
        message:
          'The specified version (1999-01-01) is not recognized. Consider using the latest supported version (2026-04-01).',
      },
    });
    expect((await rawRequest(emu, path('v', '', ''), bearer)).status).toBe(400);
    expect((await rawRequest(emu, path('v', '', 'api-version=7.4'), bearer)).status).toBe(200);
  });

  it('injects 429 (with Retry-After) and 5xx on getSecret', async () => {
    emu.putSecret(VAULT, 'faulty', 'x');
    emu.setFaults({ sequence: ['throttle', 'server-error'], ops: ['getSecret'], retryAfterSeconds: 2 });
    const throttled = await rawRequest(emu, path('faulty'), bearer);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('2');
    expect(throttled.json).toMatchObject({ error: { code: 'Throttled' } });
    expect((await rawRequest(emu, path('faulty'), bearer)).status).toBe(500);
    expect((await rawRequest(emu, path('faulty'), bearer)).status).toBe(200);
  });

  it('serves GET only, and leaves the ARM routes as they were', async () => {
    emu.putSecret(VAULT, 'readonly', 'x');
    expect((await rawRequest(emu, path('readonly'), bearer, { method: 'PUT', body: '{}' })).status).toBe(405);
    const arm = await rawRequest(emu, '/subscriptions/x/nothing?api-version=2024-11-30', bearer);
    expect(arm.json).toMatchObject({ error: { code: 'InvalidResourceType' } });
  });
});
