import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { iamPolicyIo } from '../../functions/gcp/iam-policy-io.ts';
import { createPolicyWriteLimiter, type PolicyWriteLimiter } from '../../functions/gcp/policy-write-limiter.ts';
import { projectPolicyIo } from '../../functions/gcp/project-policy-io.ts';
import { googleCallError, iamClientFor } from '../../local/gcp-emulator/iam-client.ts';
import { resourceManagerClientFor } from '../../local/gcp-emulator/resource-manager-client.ts';
import { type GcpEmulator, startGcpEmulator } from '../../local/gcp-emulator/server.ts';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { jumpingClock } from '../support/fake-clock.ts';

/**
 * IAM's write quota, enforced by the emulator in the time of a clock the test moves, and the function's write
 * limiter keeping the real IAM client under it. No wall-clock waits: the clock jumps when the limiter sleeps.
 */

const SA = 'astro-sync+gcp@customer-proj.iam.gserviceaccount.com';
const PROJECT = 'acme-data';
const ROLE = 'roles/iam.workloadIdentityUser';
const member = (i: number) => `serviceAccount:astro-gke-prod.svc.id.goog[ns-${i}/ns-${i}-worker-serviceaccount]`;

let clock: ReturnType<typeof jumpingClock>;
let emu: GcpEmulator;

beforeEach(async () => {
  clock = jumpingClock(1_000_000);
  emu = await startGcpEmulator({ clock });
  emu.putServiceAccount(SA);
  emu.putProject(PROJECT);
});

afterEach(async () => {
  await emu.close();
});

/** `count` read-modify-writes of one service account through the function's IAM side, one after the other. */
async function grantOneByOne(count: number, writes: PolicyWriteLimiter): Promise<void> {
  const io = iamPolicyIo(iamClientFor(emu), { serviceAccount: SA }, writes);
  for (let i = 0; i < count; i++) {
    const current = await io.read();
    const next: GcpPolicy = { ...current, bindings: [{ role: ROLE, members: [member(i)] }] };
    await io.write(current, next);
  }
}

describe('IAM write quota', () => {
  it('the emulator answers 429 RESOURCE_EXHAUSTED past the quota within a minute, and admits writes again after', async () => {
    emu.setFaults({ writeQuotaPerMinute: 3 });
    const client = iamClientFor(emu);
    const resource = `projects/-/serviceAccounts/${SA}`;
    const write = () => client.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy: {} } });
    for (let i = 0; i < 3; i++) await write();
    const refused = await googleCallError(write());
    expect(refused).toMatchObject({ status: 429, rpcStatus: 'RESOURCE_EXHAUSTED' });
    expect(refused.message).toMatch(/Write requests per minute/);
    // Reads are metered apart (6,000 a minute): the write quota does not refuse them.
    await client.projects.serviceAccounts.getIamPolicy({ resource });
    clock.advance(59_999);
    expect(await googleCallError(write())).toMatchObject({ status: 429 });
    clock.advance(1);
    await write();
  });

  it('the write limiter keeps 100 writes under a quota of 60 a minute', async () => {
    emu.setFaults({ writeQuotaPerMinute: 60 });
    const started = clock.now();
    await grantOneByOne(100, createPolicyWriteLimiter({ writesPerMinute: 60, clock }));
    const writes = emu.calls.filter((c) => c.method === 'setIamPolicy');
    expect(writes).toHaveLength(100);
    expect(writes.every((c) => c.status === 200)).toBe(true);
    // 99 gaps of a second: the limiter waited what the quota needs and no more.
    expect(clock.now() - started).toBe(99_000);
  });

  it('project writes (Resource Manager) are metered apart from service account writes, and paced alike', async () => {
    emu.setFaults({ writeQuotaPerMinute: 60 });
    const writes = createPolicyWriteLimiter({ writesPerMinute: 60, clock });
    const manager = resourceManagerClientFor(emu);
    const project = projectPolicyIo(() => Promise.resolve(manager), { project: PROJECT }, writes);
    const started = clock.now();
    for (let i = 0; i < 70; i++) {
      const current = await project.read();
      const bindings = [
        ...(current.bindings ?? []),
        { role: 'roles/bigquery.dataViewer', members: [`user:u${i}@x.io`] },
      ];
      await project.write(current, { ...current, bindings });
    }
    // 69 seconds for 70 project writes; the IAM quota's first 60 writes were not held back by them.
    expect(clock.now() - started).toBe(69_000);
    await grantOneByOne(60, writes);
    expect(clock.now() - started).toBe(69_000 + 59_000);
    expect(emu.calls.filter((c) => c.method === 'setIamPolicy' && c.status !== 200)).toEqual([]);
  });

  it('without the limiter the same writes hit the quota', async () => {
    emu.setFaults({ writeQuotaPerMinute: 60 });
    const unlimited: PolicyWriteLimiter = { beforeWrite: () => Promise.resolve() };
    await expect(grantOneByOne(100, unlimited)).rejects.toThrow(/Quota exceeded/);
    expect(emu.calls.filter((c) => c.method === 'setIamPolicy' && c.status === 200)).toHaveLength(60);
  });
});
