import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGcpSecretResolver,
  type GcpSecretResolverOptions,
  parseGcpSecretRef,
} from '../../functions/gcp/secret-manager-resolver.ts';
import { EMULATOR_TOKEN } from '../../local/gcp-emulator/iam-client.ts';
import { type GcpEmulator, startGcpEmulator } from '../../local/gcp-emulator/server.ts';
import { SECRET_REF } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';

// createGcpSecretResolver over HTTP against the GCP emulator's Secret Manager routes, through google-auth-library's
// real request path (OAuth2Client with a fixed token, gaxios, fetch).

const SECRET = 'projects/acme-data/secrets/webhook';
const V1 = 'whsec_first-value-0000000000000000';
const V2 = 'whsec_second-value-1111111111111111';

let emu: GcpEmulator;

function tokenClient(token = EMULATOR_TOKEN): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token });
  return auth;
}

function resolver(options: GcpSecretResolverOptions = {}, env: Record<string, string> = {}) {
  return createGcpSecretResolver(env, { rootUrl: emu.url, auth: tokenClient(), minTimeoutMs: 1, ...options });
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

/** Neither the message, nor the stack, nor anything reachable as a cause may carry a secret or the token. */
function expectNoSecrets(error: Error, ...values: string[]): void {
  const text = `${error.message}\n${error.stack ?? ''}\n${String(error.cause ?? '')}`;
  for (const value of [...values, EMULATOR_TOKEN]) expect(text).not.toContain(value);
}

const accesses = () => emu.calls.filter((c) => c.method === 'access').map((c) => `${c.resource} ${c.status}`);

beforeAll(async () => {
  emu = await startGcpEmulator();
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.deleteSecret(SECRET);
  emu.putSecret(SECRET, V1);
  emu.putSecret(SECRET, `${V2}\n`);
  emu.setFaults({});
  emu.resetCalls();
});

describe('gcp-sm: references', () => {
  it('reads the latest version by default and a pinned one when asked, with one GET :access each', async () => {
    const resolve = resolver();
    expect(await resolve(`gcp-sm:${SECRET}`, 'webhook.secrets.0')).toBe(V2);
    expect(await resolve(`gcp-sm:${SECRET}/versions/1`, 'webhook.secrets.1')).toBe(V1);
    expect(await resolve(`gcp-sm:${SECRET}/versions/2`, 'manual.token')).toBe(V2);
    expect(emu.calls.map((c) => c.method)).toEqual(['access', 'access', 'access']);
    expect(accesses()).toEqual([
      `${SECRET}/versions/latest 200`,
      `${SECRET}/versions/1 200`,
      `${SECRET}/versions/2 200`,
    ]);
  });

  it('treats /versions/latest and no version as the same secret', async () => {
    const resolve = resolver();
    expect(await resolve(`gcp-sm:${SECRET}/versions/latest`, 'a')).toBe(V2);
    expect(await resolve(`gcp-sm:${SECRET}`, 'b')).toBe(V2);
    expect(emu.count('access')).toBe(1);
  });

  it('caches every value for the life of the resolver: a second resolve makes no call', async () => {
    const resolve = resolver();
    expect(await resolve(`gcp-sm:${SECRET}`, 'webhook.secrets.0')).toBe(V2);
    emu.putSecret(SECRET, 'whsec_rotated-after-cold-start');
    expect(await resolve(`gcp-sm:${SECRET}`, 'slack.token')).toBe(V2);
    expect(emu.count('access')).toBe(1);
    // A new cold start (a new resolver) sees the rotation.
    expect(await resolver()(`gcp-sm:${SECRET}`, 'webhook.secrets.0')).toBe('whsec_rotated-after-cold-start');
    expect(emu.count('access')).toBe(2);
  });

  it('shares one call between concurrent resolves of the same secret', async () => {
    const resolve = resolver();
    emu.setFaults({ latencyMs: 50 });
    const values = await Promise.all([1, 2, 3].map((i) => resolve(`gcp-sm:${SECRET}`, `webhook.secrets.${i}`)));
    expect(values).toEqual([V2, V2, V2]);
    expect(emu.count('access')).toBe(1);
  });

  it('still resolves env: references, without calling Secret Manager', async () => {
    const resolve = resolver({}, { WEBHOOK_SECRET: ' whsec_from-env ' });
    expect(await resolve('env:WEBHOOK_SECRET', 'webhook.secrets.0')).toBe('whsec_from-env');
    const error = await failure(resolve('env:MISSING', 'manual.token'));
    expect(error.message).toBe('manual.token: secret env:MISSING is empty or not set');
    expect(emu.calls).toEqual([]);
  });

  it('accepts a project number, as the console copies resource names', async () => {
    emu.putSecret('projects/123456789012/secrets/webhook', V1);
    expect(await resolver()('gcp-sm:projects/123456789012/secrets/webhook', 'f')).toBe(V1);
  });

  it('decodes the base64 payload as UTF-8 and trims surrounding whitespace', async () => {
    emu.putSecret('projects/acme-data/secrets/unicode', '  pässwörd-✓\n');
    expect(await resolver()('gcp-sm:projects/acme-data/secrets/unicode', 'f')).toBe('pässwörd-✓');
  });
});

describe('errors name the field and what to fix, never the value', () => {
  it('403: grant roles/secretmanager.secretAccessor on that secret to the runtime service account', async () => {
    emu.denySecretAccess(SECRET);
    const error = await failure(resolver()(`gcp-sm:${SECRET}/versions/1`, 'slack.token'));
    expect(error.field).toBe('slack.token');
    expect(error.message).toMatch(
      /^slack\.token: cannot read secret gcp-sm:projects\/acme-data\/secrets\/webhook\/versions\/1: /,
    );
    expect(error.message).toContain('403 PERMISSION_DENIED');
    expect(error.message).toContain(
      "grant roles/secretmanager.secretAccessor on the secret projects/acme-data/secrets/webhook to the function's runtime service account",
    );
    expectNoSecrets(error, V1, V2);
    // Not retried: a permission does not appear by asking again.
    expect(emu.count('access')).toBe(1);
  });

  it('404: the secret does not exist (or has no versions)', async () => {
    const error = await failure(resolver()('gcp-sm:projects/acme-data/secrets/missing', 'manual.token'));
    expect(error.message).toBe(
      'manual.token: cannot read secret gcp-sm:projects/acme-data/secrets/missing: the secret projects/acme-data/secrets/missing does not exist or has no versions (404 NOT_FOUND): create it or fix the reference',
    );
    expect(emu.count('access')).toBe(1);
  });

  it('404: the pinned version does not exist', async () => {
    const error = await failure(resolver()(`gcp-sm:${SECRET}/versions/7`, 'webhook.secrets.0'));
    expect(error.message).toContain(
      'version 7 of the secret projects/acme-data/secrets/webhook does not exist (404 NOT_FOUND): create it or fix the reference',
    );
    expectNoSecrets(error, V1, V2);
  });

  it('a disabled version: enable it or reference an enabled one', async () => {
    emu.setSecretVersionState(SECRET, 2, 'DISABLED');
    const error = await failure(resolver()(`gcp-sm:${SECRET}`, 'f'));
    expect(error.message).toContain('400 FAILED_PRECONDITION');
    expect(error.message).toContain('is in DISABLED state');
    expect(error.message).toContain('enable the version, or reference an enabled one');
    expectNoSecrets(error, V1, V2);
  });

  it('a rejected token: 401, not retried, and the token is not in the message', async () => {
    const error = await failure(resolver({ auth: tokenClient('ya29.wrong-token') })(`gcp-sm:${SECRET}`, 'f'));
    expect(error.message).toContain("Secret Manager refused the function's credentials (401 UNAUTHENTICATED)");
    expect(error.message).not.toContain('ya29.wrong-token');
    expect(emu.count('access')).toBe(1);
  });

  it('a failure is not cached: once the secret exists, the next resolve reads it', async () => {
    const resolve = resolver();
    await failure(resolve('gcp-sm:projects/acme-data/secrets/later', 'f'));
    emu.putSecret('projects/acme-data/secrets/later', V1);
    expect(await resolve('gcp-sm:projects/acme-data/secrets/later', 'f')).toBe(V1);
  });

  it('an empty payload is an error, not an empty secret', async () => {
    emu.putSecret('projects/acme-data/secrets/blank', ' \n');
    const error = await failure(resolver()('gcp-sm:projects/acme-data/secrets/blank', 'f'));
    expect(error.message).toContain('projects/acme-data/secrets/blank/versions/latest is empty');
    expect(emu.count('access')).toBe(1);
  });

  it('other clouds’ schemes and plain values are refused with the forms GCP accepts, without a call', async () => {
    const resolve = resolver();
    const aws = await failure(resolve('aws-sm:astro/webhook', 'manual.token'));
    expect(aws.message).toMatch(
      /^manual\.token: "aws-sm:" references are not available on GCP; use env:NAME or gcp-sm:projects\//,
    );
    const literal = await failure(resolve('whsec_LITERALSECRET', 'manual.token'));
    expect(literal.message).not.toContain('LITERALSECRET');
    const malformed = await failure(resolve('gcp-sm:projects/acme-data/secrets/x/versions/prod', 'manual.token'));
    expect(malformed.message).toContain(
      'manual.token: must be gcp-sm:projects/<project id or number>/secrets/<secret id>',
    );
    expect(emu.calls).toEqual([]);
  });
});

describe('retries and integrity', () => {
  it('retries a 503 and a 500, then succeeds', async () => {
    emu.setFaults({ sequence: ['server-error', 'internal-error'], methods: ['access'] });
    expect(await resolver()(`gcp-sm:${SECRET}`, 'f')).toBe(V2);
    expect(accesses()).toEqual([
      `${SECRET}/versions/latest 503`,
      `${SECRET}/versions/latest 500`,
      `${SECRET}/versions/latest 200`,
    ]);
  });

  it('retries 429 RESOURCE_EXHAUSTED', async () => {
    emu.setFaults({ sequence: ['rate-limit'], methods: ['access'] });
    expect(await resolver()(`gcp-sm:${SECRET}`, 'f')).toBe(V2);
    expect(accesses()).toEqual([`${SECRET}/versions/latest 429`, `${SECRET}/versions/latest 200`]);
  });

  it('after the retries, a 5xx says it is on Secret Manager’s side and to retry', async () => {
    emu.setFaults({ serverErrorRate: 1, methods: ['access'] });
    const error = await failure(resolver({ retries: 2 })(`gcp-sm:${SECRET}`, 'astro.token'));
    expect(error.message).toBe(
      "astro.token: cannot read secret gcp-sm:projects/acme-data/secrets/webhook: Secret Manager failed reading projects/acme-data/secrets/webhook/versions/latest (503 UNAVAILABLE): this is on Secret Manager's side, not in the config; retry (gave up after 3 attempts)",
    );
    expect(emu.count('access')).toBe(3);
  });

  it('refuses a payload whose CRC32C does not match, after retrying, without showing it', async () => {
    emu.corruptSecret(SECRET);
    const error = await failure(resolver({ retries: 1 })(`gcp-sm:${SECRET}`, 'webhook.secrets.0'));
    expect(error.message).toContain(
      'the payload of projects/acme-data/secrets/webhook/versions/latest does not match its CRC32C checksum (data corruption); refused',
    );
    expect(error.message).toContain('gave up after 2 attempts');
    expectNoSecrets(error, V1, V2);
    expect(emu.count('access')).toBe(2);
  });

  it('a corrupted answer followed by an intact one resolves', async () => {
    emu.corruptSecret(SECRET, 1);
    expect(await resolver()(`gcp-sm:${SECRET}`, 'f')).toBe(V2);
    expect(emu.count('access')).toBe(2);
  });

  it('gives each attempt a timeout and retries it', async () => {
    emu.setFaults({ latencyMs: 300 });
    const error = await failure(resolver({ timeoutMs: 50, retries: 1 })(`gcp-sm:${SECRET}`, 'f'));
    expect(error.message).toMatch(
      /could not reach Secret Manager at http:\/\/127\.0\.0\.1:\d+ \(no answer within 50 ms\); retry \(gave up after 2 attempts\)/,
    );
  });

  it('retries when Secret Manager cannot be reached at all', async () => {
    const resolve = createGcpSecretResolver(
      {},
      { rootUrl: 'http://127.0.0.1:9/', auth: tokenClient(), minTimeoutMs: 1, retries: 1 },
    );
    const error = await failure(resolve(`gcp-sm:${SECRET}`, 'f'));
    expect(error.message).toContain(
      'could not reach Secret Manager at http://127.0.0.1:9 (ECONNREFUSED); retry (gave up after 2 attempts)',
    );
  });
});

describe('reference grammar', () => {
  it.each([
    [`gcp-sm:${SECRET}`, true],
    [`gcp-sm:${SECRET}/versions/latest`, true],
    [`gcp-sm:${SECRET}/versions/42`, true],
    ['gcp-sm:projects/123456789012/secrets/a_b-C', true],
    ['gcp-sm:projects/acme/secrets/webhook', false],
    ['gcp-sm:projects/acme-data/secrets/web.hook', false],
    [`gcp-sm:${SECRET}/versions/0`, false],
    [`gcp-sm:${SECRET}/versions/prod`, false],
    [`gcp-sm:${SECRET}/`, false],
  ])('the resolver and the config schema agree on %s', (ref, valid) => {
    expect(SECRET_REF.test(ref)).toBe(valid);
    expect(parseGcpSecretRef(ref) !== undefined).toBe(valid);
  });

  it('defaults the version to latest', () => {
    expect(parseGcpSecretRef(`gcp-sm:${SECRET}`)).toEqual({
      project: 'acme-data',
      secret: 'webhook',
      version: 'latest',
      name: `${SECRET}/versions/latest`,
    });
  });
});
