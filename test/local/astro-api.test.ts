import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type AstroClientOptions, createAstroClient } from '../../functions/common/astro-client.ts';
import { type AstroEmulator, startAstroEmulator } from '../../local/astro-emulator/server.ts';
import { ValidationError } from '../../shared/errors.ts';
import { AstroApiError } from '../../shared/intake/astro-api.ts';
import { fakeClock, mostInWindow } from '../support/fake-clock.ts';

/** The real client over real HTTP against the emulator; backoff is kept at a few ms so the suite stays fast. */

const TOKEN = 'astro-test-token-5ecret';
const ORG = 'clorg0000000000000000000';
const WS_A = 'clwsa000000000000000000';
const WS_B = 'clwsb000000000000000000';

let emulator: AstroEmulator;

function client(overrides: Partial<AstroClientOptions> = {}) {
  return createAstroClient({ baseUrl: emulator.url, token: TOKEN, retries: 2, minTimeoutMs: 5, ...overrides });
}

/** Deployment i, updated i minutes after a fixed time, so "newest first" is the reverse of i. */
function deployment(i: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `cldep${String(i).padStart(5, '0')}`,
    name: `Deployment ${i}`,
    namespace: `ns-${i}`,
    organizationId: ORG,
    workspaceId: i % 2 === 0 ? WS_A : WS_B,
    cloudProvider: 'AWS',
    type: 'DEDICATED',
    oidcIssuerUrl: 'https://oidc.example.com/clusters/c1',
    updatedAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    // Unknown to the schema: the client must ignore it.
    scalingStatus: { hibernationStatus: { isHibernating: false } },
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

beforeEach(async () => {
  emulator = await startAstroEmulator({ token: TOKEN, organizationId: ORG });
});

afterEach(async () => {
  await emulator.close();
});

describe('get', () => {
  it('returns a Deployment without its unknown fields, with the expected headers', async () => {
    emulator.upsert(deployment(1));
    const found = await client().get(ORG, 'cldep00001');
    expect(found).toMatchObject({ id: 'cldep00001', namespace: 'ns-1', workspaceId: WS_B });
    expect(found).not.toHaveProperty('scalingStatus');
    expect(emulator.requests).toEqual([
      expect.objectContaining({ method: 'GET', path: `/v1/organizations/${ORG}/deployments/cldep00001`, status: 200 }),
    ]);
  });

  it('answers undefined for a missing Deployment, without retrying', async () => {
    expect(await client().get(ORG, 'clmissing')).toBeUndefined();
    expect(emulator.requests.map((r) => r.status)).toEqual([404]);
  });

  it.each(['../x', 'a/b', '..', 'a b', '%2e%2e'])('refuses the id %j before any request', async (id) => {
    await expect(client().get(ORG, id)).rejects.toThrow(ValidationError);
    await expect(client().get(id, 'cldep00001')).rejects.toThrow(ValidationError);
    expect(emulator.requests).toHaveLength(0);
  });
});

describe('list', () => {
  it('asks for no page once the invocation must stop, and says so as retryable', async () => {
    for (let i = 0; i < 250; i += 1) emulator.upsert(deployment(i));
    const stop = new AbortController();
    const pages: number[] = [];
    const error = await rejection(
      client().list(ORG, {
        pageSize: 100,
        signal: stop.signal,
        onPage: ({ fetched }) => {
          pages.push(fetched);
          stop.abort();
        },
      }),
    );
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('ran out of time listing') });
    expect(pages).toEqual([100]);
    expect(emulator.requests).toHaveLength(1);
  });

  it('pages through 250 Deployments, newest first', async () => {
    for (let i = 0; i < 250; i += 1) emulator.upsert(deployment(i));
    const pages: Array<{ fetched: number; totalCount: number }> = [];
    const { deployments, invalid, complete } = await client().list(ORG, {
      pageSize: 100,
      onPage: (info) => pages.push(info),
    });
    expect(invalid).toEqual([]);
    expect(complete).toBe(true);
    expect(deployments).toHaveLength(250);
    expect(deployments[0]?.id).toBe('cldep00249');
    expect(deployments[249]?.id).toBe('cldep00000');
    expect(new Set(deployments.map((d) => d.id)).size).toBe(250);
    expect(pages).toEqual([
      { fetched: 100, totalCount: 250 },
      { fetched: 199, totalCount: 250 },
      { fetched: 250, totalCount: 250 },
    ]);
    // Each later page re-reads the last entry of the page before, to see whether the list moved meanwhile.
    expect(emulator.requests.map((r) => r.query)).toEqual([
      'offset=0&limit=100&sorts%5B%5D=updatedAt%3Adesc',
      'offset=99&limit=100&sorts%5B%5D=updatedAt%3Adesc',
      'offset=198&limit=100&sorts%5B%5D=updatedAt%3Adesc',
    ]);
  });

  it('lists 5,000 Deployments in pages of 1000 by default, advancing by what each page returned', async () => {
    for (let i = 0; i < 5000; i += 1) emulator.upsert(deployment(i));
    const { deployments, complete } = await client().list(ORG);
    expect(complete).toBe(true);
    expect(deployments).toHaveLength(5000);
    expect(new Set(deployments.map((d) => d.id)).size).toBe(5000);
    // Five pages of 1000 that overlap by one cover 4,996 entries; the sixth reads the last 5.
    expect(emulator.requests.map((r) => new URLSearchParams(r.query).toString())).toEqual(
      [0, 999, 1998, 2997, 3996, 4995].map((offset) =>
        new URLSearchParams({ offset: String(offset), limit: '1000', 'sorts[]': 'updatedAt:desc' }).toString(),
      ),
    );
  });

  it('keeps paging when the API answers fewer entries than the limit asked for', async () => {
    for (let i = 0; i < 250; i += 1) emulator.upsert(deployment(i));
    // An API that caps pages below the requested limit: the next offset follows what came back, not the limit.
    const capped: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      url.searchParams.set('limit', '100');
      return fetch(url, init);
    };
    const { deployments, complete } = await client({ fetch: capped }).list(ORG);
    expect(complete).toBe(true);
    expect(deployments).toHaveLength(250);
    expect(emulator.requests.map((r) => new URLSearchParams(r.query).get('offset'))).toEqual(['0', '99', '198']);
  });

  it('refuses a page size above 1000 before any request; the emulator answers a larger limit with a 400', async () => {
    expect(() => client({ pageSize: 1001 })).toThrow(ValidationError);
    await expect(client().list(ORG, { pageSize: 1001 })).rejects.toThrow(ValidationError);
    expect(emulator.requests).toHaveLength(0);
    const response = await fetch(`${emulator.url}/organizations/${ORG}/deployments?limit=1001`, {
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ statusCode: 400, message: expect.stringMatching(/limit/) });
  });

  it('stops paging once a page reaches Deployments older than updatedSince', async () => {
    for (let i = 0; i < 250; i += 1) emulator.upsert(deployment(i));
    // The 30 newest (220..249) are at or after the cursor; they all fit in the first page.
    const updatedSince = new Date(Date.UTC(2025, 0, 1) + 220 * 60_000).toISOString();
    const { deployments } = await client().list(ORG, { pageSize: 20, updatedSince });
    expect(deployments.map((d) => d.id)).toEqual(
      Array.from({ length: 30 }, (_, k) => `cldep${String(249 - k).padStart(5, '0')}`),
    );
    expect(emulator.requests).toHaveLength(2);
  });

  it('filters by workspace', async () => {
    for (let i = 0; i < 10; i += 1) emulator.upsert(deployment(i));
    const { deployments } = await client().list(ORG, { workspaceIds: [WS_A] });
    expect(deployments.map((d) => d.id)).toEqual([
      'cldep00008',
      'cldep00006',
      'cldep00004',
      'cldep00002',
      'cldep00000',
    ]);
    expect(emulator.requests[0]?.query).toContain(`workspaceIds%5B%5D=${WS_A}`);
  });

  it('reports one invalid Deployment and returns the rest', async () => {
    for (let i = 0; i < 5; i += 1) emulator.upsert(deployment(i, i === 2 ? { namespace: 'Bad_NS' } : {}));
    const { deployments, invalid } = await client().list(ORG, { pageSize: 2 });
    expect(deployments.map((d) => d.id)).toEqual(['cldep00004', 'cldep00003', 'cldep00001', 'cldep00000']);
    expect(invalid).toEqual([
      expect.objectContaining({ id: 'cldep00002', reason: expect.stringMatching(/namespace: "Bad_NS"/) }),
    ]);
    expect(emulator.requests).toHaveLength(4);
  });

  /** A fetch that changes the organization right after the first page was answered. */
  function changingAfterFirstPage(change: () => void): typeof fetch {
    let pages = 0;
    return async (input, init) => {
      const response = await fetch(input, init);
      if (++pages === 1) change();
      return response;
    };
  }

  it.each([
    ['a Deployment before the page boundary is deleted', () => emulator.remove('cldep00149')],
    [
      'a Deployment on the next page is updated (moves to the front)',
      () => emulator.upsert(deployment(10, { updatedAt: '2030-01-01T00:00:00Z' })),
    ],
  ])('sees the list move when %s, and says the pass is not complete', async (_name, change) => {
    for (let i = 0; i < 150; i += 1) emulator.upsert(deployment(i));
    const listed = await client({ fetch: changingAfterFirstPage(change) }).list(ORG, { pageSize: 100 });
    expect(listed.complete).toBe(false);
  });

  it('an empty page before totalCount is not the end of the list', async () => {
    for (let i = 0; i < 150; i += 1) emulator.upsert(deployment(i));
    const empty: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).includes('offset=99')) return response;
      const body = (await response.json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...body, deployments: [] }), { status: 200, headers: response.headers });
    };
    const listed = await client({ fetch: empty }).list(ORG, { pageSize: 100 });
    expect(listed.deployments).toHaveLength(100);
    expect(listed.complete).toBe(false);
  });

  it('a look-back list is never complete: it stops early on purpose', async () => {
    for (let i = 0; i < 5; i += 1) emulator.upsert(deployment(i));
    const listed = await client().list(ORG, { updatedSince: '2020-01-01T00:00:00Z' });
    expect(listed.deployments).toHaveLength(5);
    expect(listed.complete).toBe(false);
  });

  it('reads one page with listPage', async () => {
    for (let i = 0; i < 5; i += 1) emulator.upsert(deployment(i));
    const page = await client().listPage(ORG, { offset: 1, limit: 2, deploymentIds: ['cldep00001', 'cldep00003'] });
    expect(page).toMatchObject({ offset: 1, limit: 2, totalCount: 2, received: 1 });
    expect(page.deployments.map((d) => d.id)).toEqual(['cldep00001']);
  });
});

describe('pacing', () => {
  it('paces every request of one client, gets and list pages alike, at 20 per second by default', async () => {
    const clock = fakeClock();
    const sent: number[] = [];
    const all = Array.from({ length: 30 }, (_, i) => deployment(29 - i));
    // Canned answers: the pacing is measured on the fake clock, so no real I/O may sit between two requests.
    const canned: typeof fetch = async (input) => {
      sent.push(clock.now());
      const url = new URL(String(input));
      if (!url.pathname.endsWith('/deployments')) return Response.json(deployment(1));
      const offset = Number(url.searchParams.get('offset'));
      const limit = Number(url.searchParams.get('limit'));
      return Response.json({ deployments: all.slice(offset, offset + limit), limit, offset, totalCount: all.length });
    };
    const astro = client({ fetch: canned, clock, pageSize: 2 });
    const work = Promise.all([astro.list(ORG), ...Array.from({ length: 25 }, () => astro.get(ORG, 'cldep00001'))]);
    const ended = await clock.run();
    const [listed] = await work;
    expect(listed.complete).toBe(true);
    // 30 entries in pages of 2 that overlap by one: 29 pages, and 25 gets.
    expect(sent).toHaveLength(54);
    expect(mostInWindow(sent, 1000)).toBe(20);
    expect(ended).toBe(53 * 50);
  });

  it('takes a lower rate from its options and refuses one above the documented 25 per second', async () => {
    const clock = fakeClock();
    const sent: number[] = [];
    const canned: typeof fetch = async () => {
      sent.push(clock.now());
      return Response.json(deployment(1));
    };
    const astro = client({ fetch: canned, clock, requestsPerSecond: 4 });
    const work = Promise.all(Array.from({ length: 12 }, () => astro.get(ORG, 'cldep00001')));
    await clock.run();
    await work;
    expect(mostInWindow(sent, 1000)).toBe(4);
    expect(() => client({ requestsPerSecond: 26 })).toThrow(ValidationError);
    expect(() => client({ requestsPerSecond: 0 })).toThrow(ValidationError);
  });
});

describe('errors and retries', () => {
  it('does not retry a 401 and never shows the token', async () => {
    const wrong = 'wrong-token-that-must-not-leak';
    const error = await rejection(client({ token: wrong }).list(ORG));
    expect(error).toBeInstanceOf(AstroApiError);
    expect(error).toMatchObject({ apiStatus: 401, status: 502, retryable: false });
    const { message } = error as AstroApiError;
    expect(message).toMatch(/token is invalid or lacks Organization\/Workspace read access/);
    expect(message).not.toContain(wrong);
    expect(message).not.toContain(TOKEN);
    expect(emulator.requests).toHaveLength(1);
  });

  it('answers 403 for another organization, not retried', async () => {
    const error = await rejection(client().get('clorgother0000000000000', 'cldep00001'));
    expect(error).toMatchObject({ apiStatus: 403, status: 502, retryable: false });
    expect(emulator.requests).toHaveLength(1);
  });

  it('honours Retry-After on 429, then succeeds', async () => {
    emulator.upsert(deployment(1));
    emulator.setFaults({ failNext: 1, status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    expect(await client().get(ORG, 'cldep00001')).toBeDefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(emulator.requests.map((r) => r.status)).toEqual([429, 200]);
  });

  it('retries 500 twice, then succeeds', async () => {
    emulator.upsert(deployment(1));
    emulator.setFaults({ failNext: 2, status: 500 });
    expect(await client().get(ORG, 'cldep00001')).toBeDefined();
    expect(emulator.requests.map((r) => r.status)).toEqual([500, 500, 200]);
  });

  it('retries a timeout, then fails with a retryable error', async () => {
    emulator.upsert(deployment(1));
    emulator.setFaults({ latencyMs: 300 });
    const error = await rejection(client({ timeoutMs: 50 }).get(ORG, 'cldep00001'));
    expect(error).toBeInstanceOf(AstroApiError);
    expect(error).toMatchObject({ apiStatus: 0, status: 503, retryable: true });
    expect((error as Error).message).toMatch(/did not answer within 50 ms.*gave up after 3 attempts/);
    // The emulator records a request when it answers, after its latency: wait for the three attempts to land.
    await vi.waitFor(() => expect(emulator.requests).toHaveLength(3), { timeout: 2000 });
  });

  it('gives up when the API is down', async () => {
    emulator.setFaults({ down: true });
    const error = await rejection(client().list(ORG));
    expect(error).toMatchObject({ status: 503, retryable: true });
    expect((error as Error).message).toMatch(/gave up after 3 attempts/);
    expect(emulator.requests.map((r) => r.status)).toEqual([503, 503, 503]);
  });

  it('reports a refused connection as retryable with status 0', async () => {
    const { url } = emulator;
    await emulator.close();
    const error = await rejection(client({ baseUrl: url, retries: 1 }).get(ORG, 'cldep00001'));
    expect(error).toMatchObject({ apiStatus: 0, status: 503, retryable: true });
    expect((error as Error).message).toMatch(/could not reach the Astro API at http:\/\/127\.0\.0\.1:\d+/);
    emulator = await startAstroEmulator({ token: TOKEN, organizationId: ORG });
  });

  it('refuses a plain http base URL that is not loopback, so the token never travels in clear', () => {
    expect(() => client({ baseUrl: 'http://api.astronomer.io/v1' })).toThrow(ValidationError);
  });
});
