import { describe, expect, it } from 'vitest';
import { EMULATOR_TOKEN, googleCallError as failure, iamClientFor } from '../../local/gcp-emulator/iam-client.ts';
import { useGcpEmulator } from '../support/gcp-emulator-suite.ts';

// Fault injection of the GCP IAM emulator and how the real @googleapis/iam client (gaxios) reacts to it.

const SA = 'astro-sync+gcp@customer-proj.iam.gserviceaccount.com';
const WI_ROLE = 'roles/iam.workloadIdentityUser';
const POOL = 'astro-gke-prod.svc.id.goog';
const ksa = (ns: string, name = `${ns}-worker-serviceaccount`) => `serviceAccount:${POOL}[${ns}/${name}]`;

const { suite, read, write } = useGcpEmulator(SA);

describe('fault injection', () => {
  it('answers 429 RESOURCE_EXHAUSTED; the client does not retry POSTs by default', async () => {
    suite.emu.setFaults({ sequence: ['rate-limit'] });
    const error = await failure(write({ bindings: [] }));
    expect(error).toMatchObject({ gaxios: true, status: 429, rpcStatus: 'RESOURCE_EXHAUSTED' });
    expect(error.message).toMatch(/^Quota exceeded for quota metric 'Write requests'/);
    expect(suite.emu.count('setIamPolicy')).toBe(1);
    expect(suite.emu.calls[0]?.body).toEqual({ policy: { bindings: [] } });
  });

  it('answers 503 UNAVAILABLE (and 500 INTERNAL), also without default retries', async () => {
    suite.emu.setFaults({ serverErrorRate: 1 });
    expect(await failure(read())).toMatchObject({ status: 503, rpcStatus: 'UNAVAILABLE' });
    suite.emu.setFaults({ sequence: ['internal-error'] });
    expect(await failure(read())).toMatchObject({ status: 500, rpcStatus: 'INTERNAL' });
    expect(suite.emu.count('getIamPolicy')).toBe(2);
  });

  it('lets a client that opts POST into gaxios retries ride out scripted faults', async () => {
    const retryConfig = { httpMethodsToRetry: ['POST'], retry: 3, retryDelay: 1, retryDelayMultiplier: 1 };
    suite.emu.setFaults({ sequence: ['rate-limit', 'server-error'], methods: ['getIamPolicy'] });
    const policy = await read(3, iamClientFor(suite.emu, EMULATOR_TOKEN, { retryConfig }));
    expect(policy.etag).toBeDefined();
    expect(suite.emu.calls.map((c) => c.status)).toEqual([429, 503, 200]);
  });

  it('restricts faults to the listed methods and replays rates from the seed', async () => {
    suite.emu.setFaults({ rateLimitRate: 1, methods: ['setIamPolicy'] });
    const policy = await read();
    expect(await failure(write(policy))).toMatchObject({ status: 429 });
    const outcomes = async () => {
      suite.emu.setFaults({ rateLimitRate: 0.5, seed: 7 });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++)
        statuses.push(
          await read().then(
            () => 200,
            (e: { status: number }) => e.status,
          ),
        );
      return statuses;
    };
    const first = await outcomes();
    expect(first).toContain(429);
    expect(first).toContain(200);
    expect(await outcomes()).toEqual(first);
  });

  it('adds latency to every response', async () => {
    suite.emu.setFaults({ latencyMs: 120 });
    const started = performance.now();
    await read();
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('concurrentWriterRate makes the set after a get fail with 409; a fresh read-modify-write keeps both changes', async () => {
    suite.emu.setFaults({ concurrentWriterRate: 1 });
    const stale = await read();
    const error = await failure(write({ ...stale, bindings: [{ role: WI_ROLE, members: [ksa('a')] }] }));
    expect(error).toMatchObject({ status: 409, rpcStatus: 'ABORTED' });
    expect(suite.emu.calls.map((c) => [c.method, c.status])).toEqual([
      ['getIamPolicy', 200],
      ['concurrentWrite', 200],
      ['setIamPolicy', 409],
    ]);
    suite.emu.setFaults({});
    const fresh = await read();
    const added = { role: WI_ROLE, members: [ksa('a')] };
    const result = await write({ ...fresh, bindings: [...(fresh.bindings ?? []), added] });
    expect(result.bindings).toEqual([
      { role: 'roles/iam.serviceAccountTokenCreator', members: ['user:concurrent-writer-1@example.com'] },
      added,
    ]);
    expect(suite.emu.count('setIamPolicy')).toBe(2);
    suite.emu.resetCalls();
    expect(suite.emu.calls).toEqual([]);
  });
});
