import type { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureEmulator, startAzureEmulator } from '../../local/azure-emulator/server.ts';
import { AUDIENCE, failure, ISSUER, MI, msiClient, RG, SUB, subject } from '../../local/azure-emulator/test-support.ts';

const CONCURRENT = 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity';

let emu: AzureEmulator;
let client: ManagedServiceIdentityClient;
let identityCount = 0;
/** A fresh identity per test: cleaning up with (concurrent) deletes would itself trip the 409 rule. */
let mi: string;
let other: string;

function fic(sa: string) {
  return { issuer: ISSUER, subject: subject('ns1', sa), audiences: [AUDIENCE] };
}

function statuses(): string[] {
  return emu.calls.map((c) => `${c.op} ${c.status}`);
}

beforeAll(async () => {
  emu = await startAzureEmulator();
  client = msiClient(emu);
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  identityCount += 1;
  mi = `${MI}-${identityCount}`;
  other = `${mi}-other`;
  emu.putIdentity(SUB, RG, mi);
  emu.putIdentity(SUB, RG, other);
  emu.setFaults({});
  emu.resetCalls();
});

describe('azure emulator concurrency and faults', () => {
  it('answers 409 to one of two overlapping writes on one identity; the client does not retry 409', async () => {
    emu.setFaults({ latencyMs: 100 });
    const settled = await Promise.allSettled([
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-scheduler', fic('scheduler')),
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-worker', fic('worker')),
    ]);
    // Which request reaches the server first is up to the sockets; exactly one must win.
    const won = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.name] : []));
    const lost = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    const error = await failure(Promise.reject(lost[0]));
    expect(error).toMatchObject({ name: 'RestError', statusCode: 409, code: CONCURRENT });
    expect(error.message).toBe(
      `Too many Federated Identity Credentials are written concurrently for the managed identity ` +
        `'/subscriptions/${SUB}/resourcegroups/${RG}/providers/microsoft.managedidentity/userassignedidentities/${mi}'. ` +
        'Concurrent Federated Identity Credentials writes under the same managed identity are not supported.',
    );
    expect(emu.calls.map((c) => c.status).sort((x, y) => x - y)).toEqual([201, 409]);
    expect(emu.credentials(SUB, RG, mi).map((c) => c.name)).toEqual(won);
  });

  it('lets writes to different identities, reads, and sequential writes proceed', async () => {
    emu.putCredential(SUB, RG, mi, { name: 'seeded', issuer: ISSUER, subject: 'seeded' });
    emu.setFaults({ latencyMs: 50 });
    const results = await Promise.all([
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-kpo', fic('kpo')),
      client.federatedIdentityCredentials.createOrUpdate(RG, other, 'ns1-kpo', fic('kpo')),
      client.federatedIdentityCredentials.get(RG, mi, 'seeded'),
    ]);
    expect(results.map((r) => r.name)).toEqual(['ns1-kpo', 'ns1-kpo', 'seeded']);
    // A delete is a write too, but once the first write finished the slot is free again.
    await client.federatedIdentityCredentials.delete(RG, other, 'ns1-kpo');
    await client.federatedIdentityCredentials.createOrUpdate(RG, other, 'ns1-dag', fic('dag'));
    expect(emu.calls.filter((c) => c.status === 409)).toEqual([]);
  });

  it('counts a delete overlapping a create as a concurrent write', async () => {
    emu.putCredential(SUB, RG, mi, { name: 'ns1-old', issuer: ISSUER, subject: 'old' });
    emu.setFaults({ latencyMs: 100 });
    const settled = await Promise.allSettled([
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-api', fic('api')),
      client.federatedIdentityCredentials.delete(RG, mi, 'ns1-old'),
    ]);
    expect(settled.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const conflicts = emu.calls.filter((c) => c.status === 409);
    expect(conflicts).toHaveLength(1);
    expect(emu.calls).toHaveLength(2);
  });

  it('scripts a 409 conflict through the fault sequence', async () => {
    emu.setFaults({ sequence: ['conflict', 'ok'] });
    expect(await failure(client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-a', fic('a')))).toMatchObject({
      statusCode: 409,
      code: CONCURRENT,
    });
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-a', fic('a'));
    expect(statuses()).toEqual(['createOrUpdate 409', 'createOrUpdate 201']);
  });

  it('sends 429 with Retry-After; the default policy retries (3 retries) honouring it', async () => {
    emu.setFaults({ sequence: ['throttle', 'throttle'], retryAfterSeconds: 0 });
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-t', fic('t'));
    expect(statuses()).toEqual(['createOrUpdate 429', 'createOrUpdate 429', 'createOrUpdate 201']);

    emu.resetCalls();
    emu.setFaults({ throttleRate: 1, retryAfterSeconds: 0, ops: ['get'] });
    const error = await failure(client.federatedIdentityCredentials.get(RG, mi, 'ns1-t'));
    expect(error).toMatchObject({ name: 'RestError', statusCode: 429, code: 'TooManyRequests' });
    expect(emu.count('get')).toBe(4);

    emu.resetCalls();
    emu.setFaults({ sequence: ['throttle'], retryAfterSeconds: 1 });
    const started = Date.now();
    await client.federatedIdentityCredentials.delete(RG, mi, 'ns1-t');
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    const [throttled, ok] = emu.calls;
    expect((ok?.at ?? 0) - (throttled?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(statuses()).toEqual(['delete 429', 'delete 200']);
  });

  it('sends 500; the default policy retries 5xx with exponential backoff (3 retries)', async () => {
    const fast = msiClient(emu, { retryOptions: { retryDelayInMs: 1, maxRetryDelayInMs: 5 } });
    emu.setFaults({ serverErrorRate: 1 });
    const error = await failure(fast.federatedIdentityCredentials.get(RG, mi, 'x'));
    expect(error).toMatchObject({ statusCode: 500, code: 'InternalServerError' });
    expect(emu.count('get')).toBe(4);

    emu.resetCalls();
    emu.setFaults({ sequence: ['server-error', 'ok'] });
    await fast.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-s', fic('s'));
    expect(statuses()).toEqual(['createOrUpdate 500', 'createOrUpdate 201']);
  });

  it('sends 503 with Retry-After, which the throttling strategy retries', async () => {
    emu.setFaults({ serverErrorRate: 1, serverErrorStatus: 503, retryAfterSeconds: 0, ops: ['list'] });
    const pages = client.federatedIdentityCredentials.list(RG, mi).byPage();
    const error = await failure(pages.next());
    expect(error).toMatchObject({ statusCode: 503, code: 'ServiceUnavailable' });
    expect(emu.count('list')).toBe(4);
  });

  it('replays rate-based faults identically for the same seed', async () => {
    const run = async () => {
      emu.resetCalls();
      emu.setFaults({ throttleRate: 0.5, retryAfterSeconds: 0, seed: 42 });
      const fast = msiClient(emu, { retryOptions: { maxRetries: 0 } });
      for (let i = 0; i < 8; i++) await fast.federatedIdentityCredentials.get(RG, mi, 'x').catch(() => undefined);
      return emu.calls.map((c) => c.status);
    };
    const first = await run();
    expect(first).toContain(429);
    expect(first).toContain(404);
    expect(await run()).toEqual(first);
  });
});
