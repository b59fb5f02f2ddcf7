import { afterEach, describe, expect, it } from 'vitest';
import { createHoustonClient } from '../../functions/common/houston-client.ts';
import {
  type HoustonEmulator,
  type HoustonEmulatorOptions,
  startHoustonEmulator,
} from '../../local/houston-emulator/server.ts';
import { HoustonApiError } from '../../shared/intake/houston-api.ts';

// The real Houston client against the emulator (graphql-js): raw-token auth, cursor paging, older versions, errors.

let houston: HoustonEmulator | undefined;
afterEach(async () => {
  await houston?.close();
  houston = undefined;
});

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const release = (n: number) => `release-${String(n).padStart(4, '0')}`;

async function start(count: number, options: HoustonEmulatorOptions = {}): Promise<HoustonEmulator> {
  const emulator = await startHoustonEmulator(options);
  for (let n = 1; n <= count; n++) {
    emulator.upsert({
      id: uuid(n),
      label: `Deployment ${n}`,
      releaseName: release(n),
      namespace: `astronomer-${release(n)}`,
      clusterId: 'cluster-a',
      workspace: { id: uuid(9000), label: 'Data' },
      runtimeVersion: '12.4.0',
      // Unknown to this tool: dropped by the schema, as any field Houston adds.
      type: 'airflow',
    });
  }
  houston = emulator;
  return emulator;
}

const client = (emulator: HoustonEmulator, overrides: Partial<Parameters<typeof createHoustonClient>[0]> = {}) =>
  createHoustonClient({ url: emulator.url, token: emulator.token, minTimeoutMs: 1, ...overrides });

describe('Houston client', () => {
  it('pages by cursor with the raw token and returns every Deployment once', async () => {
    const emulator = await start(250);
    const list = await client(emulator).list();
    expect(list.deployments).toHaveLength(250);
    expect(new Set(list.deployments.map((d) => d.id)).size).toBe(250);
    expect(list.deployments[0]).toEqual({
      id: uuid(1),
      label: 'Deployment 1',
      releaseName: release(1),
      namespace: `astronomer-${release(1)}`,
      clusterId: 'cluster-a',
      workspace: { id: uuid(9000), label: 'Data' },
      runtimeVersion: '12.4.0',
      airflowVersion: undefined,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    // Houston 1.0 dropped airflowVersion: the first query is refused (400) and asked again without it.
    expect(emulator.requests[0]?.status).toBe(400);
    expect(emulator.requests.filter((r) => r.status === 200).map((r) => r.variables)).toEqual([
      { take: 100 },
      { take: 100, cursor: uuid(100) },
      { take: 100, cursor: uuid(200) },
    ]);
    expect(emulator.requests.every((r) => r.authorization === emulator.token)).toBe(true);
  });

  it('asks for no page once the invocation must stop, and says so as retryable', async () => {
    const emulator = await start(250);
    const stop = new AbortController();
    let requests = 0;
    const counting: typeof fetch = async (input, init) => {
      requests += 1;
      const answer = await fetch(input, init);
      stop.abort(); // the deadline passes while the first page is read
      return answer;
    };
    const error = await client(emulator, { fetch: counting, pageSize: 100 })
      .list({ signal: stop.signal })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ retryable: true, message: expect.stringContaining('ran out of time listing') });
    // The pages a whole list takes (3 of 100, plus what the first page costs), counted the same way: it stopped early.
    const stopped = requests;
    requests = 0;
    const whole: typeof fetch = async (input, init) => {
      requests += 1;
      return fetch(input, init);
    };
    await client(emulator, { fetch: whole, pageSize: 100 }).list();
    expect(stopped).toBeLessThan(requests);
    expect(requests - stopped).toBe(2);
  });

  it('reads a Houston whose cursor is inclusive (the cursor row repeats) without duplicates or a loop', async () => {
    const emulator = await start(201, { cursorInclusive: true });
    const list = await client(emulator).list();
    expect(list.deployments).toHaveLength(201);
    expect(emulator.requests.length).toBeLessThanOrEqual(4);
  });

  it('says what to do about a refused token, and never sends it as Bearer', async () => {
    const emulator = await start(1);
    const error = await client(emulator, { token: 'wrong-token' })
      .list()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HoustonApiError);
    expect(error).toMatchObject({
      retryable: false,
      message: expect.stringContaining('Houston refused the API token'),
    });
    expect(emulator.requests).toHaveLength(1);
  });

  it('falls back for a Houston that lists no namespace (and one before 1.0 without clusterId)', async () => {
    const emulator = await start(3, { version: '0.34.0', namespaceInList: false });
    const houstonClient = client(emulator);
    const list = await houstonClient.list();
    expect(list.fields).toEqual({ namespace: false, clusterId: false, airflowVersion: true });
    expect(list.deployments.map((d) => d.namespace)).toEqual([undefined, undefined, undefined]);
    const firstCalls = emulator.requests.length;
    await houstonClient.list();
    // Remembered: the second list asks the right query at once.
    expect(emulator.requests.length - firstCalls).toBe(1);
  });

  it('names the Houston version a query needs', async () => {
    const emulator = await start(1, { version: '0.31.0' });
    await expect(client(emulator).list()).rejects.toThrow(/paginatedDeployments needs Houston 0\.32 or later/);
  });

  it('retries 503 and Houston-side GraphQL errors, and gives up with a retryable error', async () => {
    const emulator = await start(2);
    emulator.setFaults({ failNext: 2, graphqlErrorNext: 0 });
    expect((await client(emulator).list()).deployments).toHaveLength(2);
    emulator.setFaults({ graphqlErrorNext: 1 });
    expect((await client(emulator).list()).deployments).toHaveLength(2);
    emulator.setFaults({ failNext: 10 });
    await expect(client(emulator, { retries: 2 }).list()).rejects.toMatchObject({ retryable: true });
  });

  it('times out a Houston that does not answer', async () => {
    const emulator = await start(1);
    emulator.setFaults({ latencyMs: 500 });
    await expect(client(emulator, { timeoutMs: 50, retries: 0 }).list()).rejects.toThrow(
      /Houston did not answer within 50 ms/,
    );
  });

  it('refuses plain http to anything but this machine, and an empty token', () => {
    expect(() => createHoustonClient({ url: 'http://houston.example.com/v1', token: 't' })).toThrow(/https/);
    expect(() => createHoustonClient({ url: 'https://houston.example.com/v1', token: ' ' })).toThrow(/token/);
  });
});
