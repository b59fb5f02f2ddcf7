import type { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AzureEmulator, startAzureEmulator } from '../../local/azure-emulator/server.ts';
import {
  AUDIENCE,
  collectionPath,
  failure,
  ISSUER,
  MI,
  msiClient,
  RG,
  rawRequest,
  SUB,
  subject,
  withStatus,
} from '../../local/azure-emulator/test-support.ts';

const NAME_MESSAGE =
  'The name of a federated identity credentials must be within 3 and 120 characters, only contains letters ' +
  '(A-Z, a-z), numbers, hyphens and dashes and must start with a number or letter.';

let emu: AzureEmulator;
let client: ManagedServiceIdentityClient;
let identityCount = 0;
let mi: string;

function fic(sa: string, overrides: { issuer?: string; subject?: string; audiences?: string[] } = {}) {
  return { issuer: ISSUER, subject: subject('ns1', sa), audiences: [AUDIENCE], ...overrides };
}

beforeAll(async () => {
  emu = await startAzureEmulator({ pageSize: 5 });
  client = msiClient(emu);
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  // A fresh identity per test keeps the 20-credential limit and uniqueness rules independent between tests.
  identityCount += 1;
  mi = `${MI}-${identityCount}`;
  emu.putIdentity(SUB, RG, mi);
  emu.setFaults({});
  emu.resetCalls();
});

async function listNames(identity = mi): Promise<string[]> {
  const names: string[] = [];
  for await (const c of client.federatedIdentityCredentials.list(RG, identity)) names.push(c.name ?? '');
  return names;
}

describe('azure emulator with the real @azure/arm-msi client', () => {
  it('lists an empty identity, then creates (201), gets and lists a credential', async () => {
    expect(await listNames()).toEqual([]);
    const created = await withStatus((o) =>
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-scheduler', fic('scheduler'), o),
    );
    expect(created.status).toBe(201);
    expect(created.result).toEqual({
      id: `/subscriptions/${SUB}/resourcegroups/${RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${mi}/federatedIdentityCredentials/ns1-scheduler`,
      name: 'ns1-scheduler',
      type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
      ...fic('scheduler'),
    });
    const got = await client.federatedIdentityCredentials.get(RG, mi, 'ns1-scheduler');
    expect(got.subject).toBe(subject('ns1', 'scheduler'));
    expect(await listNames()).toEqual(['ns1-scheduler']);
    expect(emu.calls.map((c) => `${c.method} ${c.op} ${c.name ?? '-'} ${c.status}`)).toEqual([
      'GET list - 200',
      'PUT createOrUpdate ns1-scheduler 201',
      'GET get ns1-scheduler 200',
      'GET list - 200',
    ]);
  });

  it('pages with an absolute nextLink that the client follows in for-await and byPage', async () => {
    for (let i = 0; i < 12; i++) emu.putCredential(SUB, RG, mi, { name: `fic-${i}`, issuer: ISSUER, subject: `s${i}` });
    expect(await listNames()).toEqual(Array.from({ length: 12 }, (_, i) => `fic-${i}`));
    expect(emu.count('list')).toBe(3);
    const pages: number[] = [];
    for await (const page of client.federatedIdentityCredentials.list(RG, mi).byPage()) pages.push(page.length);
    expect(pages).toEqual([5, 5, 2]);
    // $top shrinks the page and is carried into the nextLink.
    const topped: number[] = [];
    for await (const page of client.federatedIdentityCredentials.list(RG, mi, { top: 4 }).byPage()) {
      topped.push(page.length);
    }
    expect(topped).toEqual([4, 4, 4]);
    const raw = await rawRequest(emu, `${collectionPath(mi)}?api-version=2024-11-30`, {
      authorization: `Bearer ${emu.token}`,
    });
    expect(raw.json).toMatchObject({
      nextLink: `${emu.url}${collectionPath(mi)}?api-version=2024-11-30&%24skiptoken=5`,
    });
  });

  it('updates an existing name (200, case-insensitive, keeps the first casing)', async () => {
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-worker', fic('worker'));
    const updated = await withStatus((o) =>
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'NS1-Worker', fic('kpo'), o),
    );
    expect(updated.status).toBe(200);
    expect(updated.result.name).toBe('ns1-worker');
    expect(emu.credentials(SUB, RG, mi)).toEqual([{ name: 'ns1-worker', ...fic('kpo') }]);
    // Re-putting the same issuer+subject under the same name is an idempotent update, not a duplicate.
    const again = await withStatus((o) =>
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'ns1-worker', fic('kpo'), o),
    );
    expect(again.status).toBe(200);
  });

  it('refuses a second name for the same issuer+subject with the exact Azure text', async () => {
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'first', fic('worker'));
    const error = await failure(client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'second', fic('worker')));
    expect(error).toEqual({
      name: 'RestError',
      statusCode: 400,
      code: 'BadRequest',
      message: 'Issuer and subject combination already exists for this Managed Identity.',
    });
    // Issuer matching is exact: a trailing slash makes a different issuer.
    const other = fic('worker', { issuer: ISSUER.replace(/\/$/, '') });
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'second', other);
    expect(emu.credentials(SUB, RG, mi)).toHaveLength(2);
  });

  it('allows 20 credentials per identity and refuses the 21st (updates still pass)', async () => {
    for (let i = 0; i < 20; i++) emu.putCredential(SUB, RG, mi, { name: `fic-${i}`, issuer: ISSUER, subject: `s${i}` });
    const error = await failure(client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'fic-20', fic('x')));
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('BadRequest');
    expect(error.message).toMatch(
      /^Too many Federated Identity Credentials are written to Managed Identity '.*\(20 limit\)\.$/,
    );
    const update = await withStatus((o) =>
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'fic-3', fic('y'), o),
    );
    expect(update.status).toBe(200);
    expect(await listNames()).toHaveLength(20);
  });

  it('validates name, audiences, issuer and subject (400 BadRequest)', async () => {
    const put = (name: string, body = fic('worker')) =>
      failure(client.federatedIdentityCredentials.createOrUpdate(RG, mi, name, body));
    for (const name of ['ab', '-abc', '_abc', 'a.bc', 'a bc', 'x'.repeat(121)]) {
      expect(await put(name)).toMatchObject({ statusCode: 400, code: 'BadRequest', message: NAME_MESSAGE });
    }
    const audiences = await put('two-aud', fic('w', { audiences: [AUDIENCE, 'api://other'] }));
    expect(audiences).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(audiences.message).toContain('exactly one audience');
    expect((await put('no-aud', fic('w', { audiences: [] }))).message).toContain('exactly one audience');
    expect((await put('http-iss', fic('w', { issuer: 'http://issuer.example/' }))).message).toContain('HTTPS');
    expect((await put('bad-iss', fic('w', { issuer: 'not a url' }))).statusCode).toBe(400);
    const wildcard = await put('wild', fic('w', { subject: 'system:serviceaccount:ns1:*' }));
    expect(wildcard).toMatchObject({ statusCode: 400, code: 'BadRequest' });
    expect(wildcard.message).toContain('Wildcard');
    expect(emu.credentials(SUB, RG, mi)).toEqual([]);
    // The boundaries themselves are valid.
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'a_1', fic('a'));
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, `9${'x'.repeat(119)}`, fic('b'));
    expect(emu.credentials(SUB, RG, mi)).toHaveLength(2);
  });

  it('refuses bodies that are not JSON or lack issuer/subject/audiences', async () => {
    const auth = { authorization: `Bearer ${emu.token}`, 'content-type': 'application/json' };
    const path = `${collectionPath(mi)}/raw-put?api-version=2024-11-30`;
    const notJson = await rawRequest(emu, path, auth, { method: 'PUT', body: '{"properties":' });
    expect(notJson).toMatchObject({ status: 400, json: { error: { code: 'InvalidRequestContent' } } });
    const empty = await failure(
      client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'empty', { issuer: ISSUER, audiences: [AUDIENCE] }),
    );
    expect(empty).toMatchObject({
      statusCode: 400,
      code: 'BadRequest',
      message:
        "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.",
    });
    const post = await rawRequest(emu, path, auth, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    const elsewhere = await rawRequest(emu, `/subscriptions/${SUB}/resourceGroups?api-version=2024-11-30`, auth);
    expect(elsewhere).toMatchObject({ status: 404, json: { error: { code: 'InvalidResourceType' } } });
  });

  it('answers 404 ResourceNotFound for a missing identity and 404 NotFound for a missing credential', async () => {
    const missing = 'no-such-mi';
    const expected = {
      name: 'RestError',
      statusCode: 404,
      code: 'ResourceNotFound',
      message:
        `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${missing}' under resource group '${RG}' ` +
        'was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix',
    };
    expect(await failure(listNames(missing))).toEqual(expected);
    expect(await failure(client.federatedIdentityCredentials.get(RG, missing, 'abc'))).toEqual(expected);
    expect(await failure(client.federatedIdentityCredentials.createOrUpdate(RG, missing, 'abc', fic('w')))).toEqual(
      expected,
    );
    expect(await failure(client.federatedIdentityCredentials.delete(RG, missing, 'abc'))).toEqual(expected);
    const credential = await failure(client.federatedIdentityCredentials.get(RG, mi, 'absent'));
    expect(credential).toMatchObject({ name: 'RestError', statusCode: 404, code: 'NotFound' });
    // 404 is not retried by the default policy.
    expect(emu.calls.every((c) => c.status === 404)).toBe(true);
    expect(emu.calls).toHaveLength(5);
  });

  it('deletes with 200, then 204 when already gone', async () => {
    await client.federatedIdentityCredentials.createOrUpdate(RG, mi, 'gone', fic('w'));
    const first = await withStatus((o) => client.federatedIdentityCredentials.delete(RG, mi, 'GONE', o));
    const second = await withStatus((o) => client.federatedIdentityCredentials.delete(RG, mi, 'gone', o));
    expect([first.status, second.status]).toEqual([200, 204]);
    expect(emu.credentials(SUB, RG, mi)).toEqual([]);
  });

  it('answers 401 without or with a wrong bearer token (not retried by the client)', async () => {
    const wrong = msiClient(emu, { token: 'not-the-token' });
    expect(await failure(wrong.federatedIdentityCredentials.get(RG, mi, 'abc'))).toEqual({
      name: 'RestError',
      statusCode: 401,
      code: 'InvalidAuthenticationToken',
      message: 'The access token is invalid.',
    });
    expect(emu.calls.map((c) => c.status)).toEqual([401]);
    const raw = await rawRequest(emu, `${collectionPath(mi)}?api-version=2024-11-30`);
    expect(raw.status).toBe(401);
    expect(raw.json).toMatchObject({ error: { code: 'AuthenticationFailed' } });
    expect(raw.headers['www-authenticate']).toContain('Bearer');
  });

  it('rejects missing, malformed and unsupported api-versions with 400', async () => {
    const auth = { authorization: `Bearer ${emu.token}` };
    const missing = await rawRequest(emu, collectionPath(mi), auth);
    expect(missing).toMatchObject({ status: 400, json: { error: { code: 'MissingApiVersionParameter' } } });
    const malformed = await rawRequest(emu, `${collectionPath(mi)}?api-version=latest`, auth);
    expect(malformed).toMatchObject({ status: 400, json: { error: { code: 'InvalidApiVersionParameter' } } });
    const old = msiClient(emu, { apiVersion: '2018-11-30' });
    const unsupported = await failure(old.federatedIdentityCredentials.get(RG, mi, 'abc'));
    expect(unsupported).toMatchObject({ statusCode: 400, code: 'NoRegisteredProviderFound' });
    expect(unsupported.message).toContain("API version '2018-11-30'");
    // Older versions that know federated credentials are accepted.
    const preview = msiClient(emu, { apiVersion: '2023-01-31' });
    expect(await preview.federatedIdentityCredentials.get(RG, mi, 'abc').catch((e: { code?: string }) => e.code)).toBe(
      'NotFound',
    );
  });
});
