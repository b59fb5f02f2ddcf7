import type { GetTokenOptions, TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AzureSecretResolverOptions,
  createAzureSecretResolver,
  parseAzureSecretRef,
} from '../../functions/azure/key-vault-resolver.ts';
import { type AzureEmulator, startAzureEmulator } from '../../local/azure-emulator/server.ts';
import { SECRET_REF } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';

// createAzureSecretResolver through the real @azure/keyvault-secrets SecretClient over HTTPS against the Azure
// emulator's Key Vault routes, challenge authentication included.

const VAULT = 'acme-kv';
const V1 = 'whsec_first-value-0000000000000000';
const V2 = 'whsec_second-value-1111111111111111';
const ref = (name: string, version?: string) =>
  `azure-kv:https://${VAULT}.vault.azure.net/secrets/${name}${version ? `/${version}` : ''}`;

let emu: AzureEmulator;
let secretCount = 0;
let name: string;
let v1: string;

interface TokenRequest {
  scopes: string[];
  tenantId: string | undefined;
}

/** A static credential, as functions/azure/msi-clients.ts builds for the local stack, that records what it is asked. */
function recordingCredential(token: string = emu.token): TokenCredential & { requests: TokenRequest[] } {
  const requests: TokenRequest[] = [];
  return {
    requests,
    getToken: async (scopes: string | string[], options?: GetTokenOptions) => {
      requests.push({ scopes: [scopes].flat(), tenantId: options?.tenantId });
      return { token, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

function resolver(options: AzureSecretResolverOptions = {}, env: Record<string, string> = {}) {
  return createAzureSecretResolver(env, {
    credential: recordingCredential(),
    endpoint: emu.keyVaultEndpoint,
    tlsOptions: { ca: emu.ca },
    retryOptions: { retryDelayInMs: 5, maxRetryDelayInMs: 20 },
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_config' });
    return error as ValidationError;
  }
  throw new Error('expected the resolve to fail');
}

function expectNoSecrets(error: Error, ...values: string[]): void {
  const text = `${error.message}\n${error.stack ?? ''}\n${String(error.cause ?? '')}`;
  for (const value of [...values, emu.token]) expect(text).not.toContain(value);
}

const reads = () => emu.calls.filter((c) => c.op === 'getSecret').map((c) => `${c.vault}/${c.name} ${c.status}`);

beforeAll(async () => {
  emu = await startAzureEmulator();
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  // A fresh secret per test keeps versions and denials independent between tests.
  secretCount += 1;
  name = `webhook-${secretCount}`;
  v1 = emu.putSecret(VAULT, name, V1);
  emu.putSecret(VAULT, name, `${V2}\n`);
  emu.setFaults({});
  emu.resetCalls();
});

describe('azure-kv: references', () => {
  it('reads the current version, answering the challenge with a token for https://vault.azure.net/.default', async () => {
    const credential = recordingCredential();
    const resolve = resolver({ credential });
    expect(await resolve(ref(name), 'webhook.secrets.0')).toBe(V2);
    // The first request goes out without a token and gets the 401 challenge; the SDK repeats it with one.
    expect(reads()).toEqual([`${VAULT}/${name} 401`, `${VAULT}/${name} 200`]);
    expect(credential.requests).toEqual([{ scopes: ['https://vault.azure.net/.default'], tenantId: emu.tenantId }]);
  });

  it('reads a pinned version', async () => {
    expect(await resolver()(ref(name, v1), 'manual.token')).toBe(V1);
    expect(emu.calls.at(-1)).toMatchObject({ op: 'getSecret', vault: VAULT, name, version: v1, status: 200 });
  });

  it('accepts a trailing slash, as portal SecretUris carry', async () => {
    expect(await resolver()(`${ref(name)}/`, 'f')).toBe(V2);
  });

  it('caches values for the life of the resolver: a second resolve makes no call', async () => {
    const resolve = resolver();
    expect(await resolve(ref(name), 'webhook.secrets.0')).toBe(V2);
    const before = emu.calls.length;
    emu.putSecret(VAULT, name, 'whsec_rotated-after-cold-start');
    expect(await resolve(ref(name), 'slack.token')).toBe(V2);
    // Vault hosts and secret names are case-insensitive: the same secret, the same cache entry.
    expect(await resolve(ref(name.toUpperCase()).replace(VAULT, 'ACME-KV'), 'astro.token')).toBe(V2);
    expect(emu.calls.length).toBe(before);
    expect(await resolver()(ref(name), 'f')).toBe('whsec_rotated-after-cold-start');
  });

  it('keeps one client per vault: the challenge is answered once per vault, not once per secret', async () => {
    const other = emu.putSecret('other-kv', 'token', V1);
    const resolve = resolver();
    await resolve(ref(name), 'a');
    await resolve(ref(name, v1), 'b');
    await resolve('azure-kv:https://other-kv.vault.azure.net/secrets/token', 'c');
    await resolve(`azure-kv:https://other-kv.vault.azure.net/secrets/token/${other}`, 'd');
    expect(emu.calls.map((c) => `${c.vault} ${c.status}`)).toEqual([
      `${VAULT} 401`,
      `${VAULT} 200`,
      `${VAULT} 200`,
      'other-kv 401',
      'other-kv 200',
      'other-kv 200',
    ]);
  });

  it('still resolves env: references, without calling Key Vault', async () => {
    const resolve = resolver({}, { SLACK_TOKEN: 'xoxb-from-env' });
    expect(await resolve('env:SLACK_TOKEN', 'slack.token')).toBe('xoxb-from-env');
    expect((await failure(resolve('env:NOPE', 'slack.token'))).message).toBe(
      'slack.token: secret env:NOPE is empty or not set',
    );
    expect(emu.calls).toEqual([]);
  });

  it('needs the challenge-resource check off against the emulator (127.0.0.1 is not under vault.azure.net)', async () => {
    const client = new SecretClient(`${emu.keyVaultEndpoint}/${VAULT}`, recordingCredential(), {
      tlsOptions: { ca: emu.ca },
    });
    await expect(client.getSecret(name)).rejects.toThrow(/does not match the requested domain/);
  });

  it('trusts an extra CA only with the endpoint override', () => {
    expect(() => createAzureSecretResolver({}, { tlsOptions: { ca: emu.ca } })).toThrow(/endpoint override only/);
  });
});

describe('errors name the field and what to fix, never the value', () => {
  it('403: assign the function app’s identity "Key Vault Secrets User" (or a Get access policy)', async () => {
    emu.denySecretAccess(VAULT, name);
    const error = await failure(resolver()(ref(name), 'webhook.secrets.0'));
    expect(error.field).toBe('webhook.secrets.0');
    expect(error.message).toBe(
      `webhook.secrets.0: cannot read secret ${ref(name)}: Key Vault denied the function app's identity access to secret ${name} in vault ${VAULT} (403 Forbidden): assign it the "Key Vault Secrets User" role on the vault (or on the secret), or, for a vault using access policies, an access policy with Get on secrets`,
    );
    expectNoSecrets(error, V1, V2);
    // A 403 is not retried: challenge, then the one refused read.
    expect(reads()).toEqual([`${VAULT}/${name} 401`, `${VAULT}/${name} 403`]);
  });

  it('403 on the whole vault, too', async () => {
    emu.putSecret('locked-kv', 'token', V1);
    emu.denySecretAccess('locked-kv');
    const error = await failure(resolver()('azure-kv:https://locked-kv.vault.azure.net/secrets/token', 'f'));
    expect(error.message).toContain('"Key Vault Secrets User"');
    expectNoSecrets(error, V1);
  });

  it('404: no such secret', async () => {
    const error = await failure(resolver()(ref('missing'), 'manual.token'));
    expect(error.message).toBe(
      `manual.token: cannot read secret ${ref('missing')}: vault ${VAULT} has no secret missing (404 SecretNotFound): create it or fix the reference`,
    );
  });

  it('404: no such version', async () => {
    const version = 'f'.repeat(32);
    const error = await failure(resolver()(ref(name, version), 'manual.token'));
    expect(error.message).toContain(
      `version ${version} of secret ${name} does not exist in vault ${VAULT} (404 SecretNotFound): create it or fix the reference`,
    );
    expectNoSecrets(error, V1, V2);
  });

  it('a disabled version: enable it', async () => {
    const disabled = emu.putSecret(VAULT, name, 'whsec_disabled-value', { enabled: false });
    const error = await failure(resolver()(ref(name, disabled), 'f'));
    expect(error.message).toContain(`secret ${name} version ${disabled} in vault ${VAULT} is disabled (403 Forbidden)`);
    expectNoSecrets(error, 'whsec_disabled-value');
  });

  it('a token Key Vault rejects: 401 with what to check, and the token stays out', async () => {
    const error = await failure(resolver({ credential: recordingCredential('wrong-token-value') })(ref(name), 'f'));
    expect(error.message).toContain("refused the function app's token (401 Unauthorized)");
    expect(error.message).not.toContain('wrong-token-value');
  });

  it('a failure is not cached', async () => {
    const resolve = resolver();
    await failure(resolve(ref('later'), 'f'));
    emu.putSecret(VAULT, 'later', V1);
    expect(await resolve(ref('later'), 'f')).toBe(V1);
  });

  it('other clouds’ schemes and malformed references are refused without a call', async () => {
    const resolve = resolver();
    const gcp = await failure(resolve('gcp-sm:projects/acme-data/secrets/x', 'manual.token'));
    expect(gcp.message).toMatch(
      /^manual\.token: "gcp-sm:" references are not available on Azure; use env:NAME or azure-kv:https:\/\//,
    );
    const malformed = await failure(resolve(`azure-kv:https://${VAULT}.vault.azure.net/keys/x`, 'manual.token'));
    expect(malformed.message).toContain(
      'manual.token: must be azure-kv:https://<vault>.vault.azure.net/secrets/<name>',
    );
    const literal = await failure(resolve('xoxb-LITERALTOKEN', 'slack.token'));
    expect(literal.message).not.toContain('LITERALTOKEN');
    expect(emu.calls).toEqual([]);
  });
});

describe('retries', () => {
  it('retries 500s (the SDK’s retry policy), then succeeds', async () => {
    emu.setFaults({ sequence: ['server-error', 'server-error'], ops: ['getSecret'] });
    expect(await resolver()(ref(name), 'f')).toBe(V2);
    // Faults come after authentication, so the challenge is answered first; then two 500s, retried.
    expect(reads()).toEqual([
      `${VAULT}/${name} 401`,
      `${VAULT}/${name} 500`,
      `${VAULT}/${name} 500`,
      `${VAULT}/${name} 200`,
    ]);
  });

  it('retries 429 and 503 after their Retry-After', async () => {
    emu.setFaults({ sequence: ['throttle'], ops: ['getSecret'], retryAfterSeconds: 0 });
    expect(await resolver()(ref(name), 'f')).toBe(V2);
    expect(reads()).toEqual([`${VAULT}/${name} 401`, `${VAULT}/${name} 429`, `${VAULT}/${name} 200`]);
    emu.resetCalls();
    emu.setFaults({ sequence: ['server-error'], ops: ['getSecret'], serverErrorStatus: 503, retryAfterSeconds: 0 });
    expect(await resolver()(ref(name, v1), 'f')).toBe(V1);
    expect(reads()).toEqual([`${VAULT}/${name} 401`, `${VAULT}/${name} 503`, `${VAULT}/${name} 200`]);
  });

  it('after the retries, a 5xx says it is on Key Vault’s side and to retry', async () => {
    emu.setFaults({ serverErrorRate: 1, ops: ['getSecret'] });
    const error = await failure(
      resolver({ retryOptions: { maxRetries: 2, retryDelayInMs: 1 } })(ref(name), 'astro.token'),
    );
    expect(error.message).toBe(
      `astro.token: cannot read secret ${ref(name)}: Key Vault ${VAULT} answered 500 InternalServerError reading secret ${name} in vault ${VAULT}, after the SDK's retries: this is on Key Vault's side, not in the config; retry`,
    );
    // The challenge, then the first try and two retries.
    expect(reads()).toEqual([`${VAULT}/${name} 401`, ...Array(3).fill(`${VAULT}/${name} 500`)]);
  });

  it('an unreachable vault says so', async () => {
    const resolve = resolver({ endpoint: 'https://127.0.0.1:9/keyvault', retryOptions: { maxRetries: 0 } });
    const error = await failure(resolve(ref(name), 'f'));
    expect(error.message).toContain(`could not reach Key Vault https://${VAULT}.vault.azure.net`);
  });
});

describe('reference grammar', () => {
  it.each([
    [ref('webhook'), true],
    [ref('webhook', '4387e9f3d6e14c459867679a90fd0f79'), true],
    [`${ref('webhook')}/`, true],
    ['azure-kv:https://kv1.vault.azure.cn/secrets/a', true],
    ['azure-kv:https://acme-kv.vault.usgovcloudapi.net/secrets/a-B-9', true],
    ['azure-kv:https://kv.vault.azure.net/secrets/a', false],
    ['azure-kv:https://acme--kv.vault.azure.net/secrets/a', false],
    ['azure-kv:https://acme-kv.vault.azure.net/secrets/a_b', false],
    [ref('webhook', 'latest'), false],
    ['azure-kv:http://acme-kv.vault.azure.net/secrets/a', false],
  ])('the resolver and the config schema agree on %s', (value, valid) => {
    expect(SECRET_REF.test(value)).toBe(valid);
    expect(parseAzureSecretRef(value) !== undefined).toBe(valid);
  });

  it('splits vault, name and version', () => {
    expect(parseAzureSecretRef(ref('webhook', '4387E9F3D6E14C459867679A90FD0F79'))).toEqual({
      vaultName: VAULT,
      vaultUrl: `https://${VAULT}.vault.azure.net`,
      name: 'webhook',
      version: '4387e9f3d6e14c459867679a90fd0f79',
    });
  });
});
