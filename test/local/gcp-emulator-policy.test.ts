import { describe, expect, it } from 'vitest';
import { googleCallError as failure } from '../../local/gcp-emulator/iam-client.ts';
import { useGcpEmulator } from '../support/gcp-emulator-suite.ts';

// Policy validation and policy versions of the GCP IAM emulator, through the real @googleapis/iam client.

const SA = 'astro-sync+gcp@customer-proj.iam.gserviceaccount.com';
const WI_ROLE = 'roles/iam.workloadIdentityUser';
const POOL = 'astro-gke-prod.svc.id.goog';
const ksa = (ns: string, name = `${ns}-worker-serviceaccount`) => `serviceAccount:${POOL}[${ns}/${name}]`;
const principal = (pool: string, ns: string) =>
  `principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/${pool}/subject/ns/${ns}/sa/${ns}-kpo`;
const POOL_MISSING_TEXT =
  'Identity Pool does not exist (other-gke.svc.id.goog). Please check that you specified a valid resource name as ' +
  'returned in the `name` attribute in the configuration API.';

const { suite, read, write } = useGcpEmulator(SA);

describe('policy validation on write', () => {
  it('rejects a GKE member whose workload identity pool does not exist, with the exact IAM text', async () => {
    const member = 'serviceAccount:other-gke.svc.id.goog[ns1/ns1-kpo]';
    const error = await failure(write({ ...(await read()), bindings: [{ role: WI_ROLE, members: [member] }] }));
    expect(error).toMatchObject({ status: 400, rpcStatus: 'INVALID_ARGUMENT', message: POOL_MISSING_TEXT });
    // Pools added later (a new GKE cluster project) are accepted from then on; this pool name is used only here.
    const late = 'serviceAccount:late-gke.svc.id.goog[ns1/ns1-kpo]';
    expect(await failure(write({ ...(await read()), bindings: [{ role: WI_ROLE, members: [late] }] }))).toMatchObject({
      status: 400,
    });
    suite.emu.addPool('late-gke.svc.id.goog');
    await expect(write({ ...(await read()), bindings: [{ role: WI_ROLE, members: [late] }] })).resolves.toBeDefined();
  });

  it('checks the pool inside principal:// and principalSet:// members too', async () => {
    const base = await read();
    const single = await failure(
      write({ ...base, bindings: [{ role: WI_ROLE, members: [principal('other-gke.svc.id.goog', 'a')] }] }),
    );
    expect(single).toMatchObject({ status: 400, message: POOL_MISSING_TEXT });
    const set = `principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/other-gke.svc.id.goog/namespace/a`;
    expect(await failure(write({ ...base, bindings: [{ role: WI_ROLE, members: [set] }] }))).toMatchObject({
      status: 400,
    });
    const ok = await write({ ...base, bindings: [{ role: WI_ROLE, members: [principal(POOL, 'a')] }] });
    expect(ok.bindings?.[0]?.members).toEqual([principal(POOL, 'a')]);
  });

  it('rejects members without a known type', async () => {
    const base = await read();
    for (const member of [
      'bob@example.com',
      'robot:bob@example.com',
      'serviceAccount:',
      `serviceAccount:${POOL}[ns1]`,
    ]) {
      expect(await failure(write({ ...base, bindings: [{ role: WI_ROLE, members: [member] }] }))).toMatchObject({
        status: 400,
        rpcStatus: 'INVALID_ARGUMENT',
      });
    }
    const fine = ['allUsers', 'domain:example.com', 'group:g@example.com', 'deleted:user:u@example.com?uid=123'];
    await expect(write({ ...base, bindings: [{ role: 'roles/viewer', members: fine }] })).resolves.toBeDefined();
  });

  it('allows 1,500 members and rejects 1,501, counting each appearance across bindings', async () => {
    const members = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => ksa(`${prefix}${i}`));
    const full = await write({ ...(await read()), bindings: [{ role: WI_ROLE, members: members(1500, 'n') }] });
    expect(full.bindings?.[0]?.members).toHaveLength(1500);
    const shared = members(750, 'n');
    const error = await failure(
      write({
        ...full,
        bindings: [
          { role: WI_ROLE, members: shared },
          { role: 'roles/iam.serviceAccountTokenCreator', members: [...shared, ksa('extra')] },
        ],
      }),
    );
    expect(error).toMatchObject({
      status: 400,
      message: 'The number of members in the policy (1501) is larger than the maximum allowed size 1500.',
    });
  });

  it('merges bindings of the same role, drops repeated members and empty bindings, keeps order', async () => {
    const result = await write({
      ...(await read()),
      bindings: [
        { role: WI_ROLE, members: [ksa('b'), ksa('a'), ksa('b')] },
        { role: 'roles/viewer', members: [] },
        { role: WI_ROLE, members: [ksa('c'), ksa('a')] },
      ],
    });
    expect(result.bindings).toEqual([{ role: WI_ROLE, members: [ksa('b'), ksa('a'), ksa('c')] }]);
  });
});

describe('policy versions and conditions', () => {
  const condition = { title: 'until 2030', expression: "request.time < timestamp('2030-01-01T00:00:00Z')" };
  const conditional = { role: 'roles/iam.serviceAccountTokenCreator', members: ['user:dana@example.com'], condition };

  it('requires version 3 to write a conditional binding', async () => {
    const base = await read();
    const v1 = await failure(write({ ...base, version: 1, bindings: [conditional] }));
    expect(v1).toMatchObject({ status: 400, rpcStatus: 'INVALID_ARGUMENT' });
    expect(v1.message).toMatch(/policy version/i);
    const v3 = await write({ ...base, version: 3, bindings: [{ role: WI_ROLE, members: [ksa('a')] }, conditional] });
    expect(v3).toMatchObject({ version: 3, bindings: [{ role: WI_ROLE }, { condition }] });
    expect(await read(3)).toEqual(v3);
  });

  it('renders conditions as <role>_withcond_<hash> in version 1 and refuses to take that back', async () => {
    suite.emu.putServiceAccount(SA, { version: 3, bindings: [{ role: WI_ROLE, members: [ksa('a')] }, conditional] });
    const v1 = await read(1);
    expect(v1.version).toBe(1);
    expect(v1.bindings?.[0]).toEqual({ role: WI_ROLE, members: [ksa('a')] });
    expect(v1.bindings?.[1]).toEqual({
      role: expect.stringMatching(/^roles\/iam\.serviceAccountTokenCreator_withcond_[0-9a-f]{20}$/),
      members: ['user:dana@example.com'],
    });
    expect(await failure(write(v1))).toMatchObject({ status: 400 });
    // Version 1 with the current etag but without the conditional binding: IAM refuses to drop what it hid.
    const etag = v1.etag ?? null;
    expect(
      await failure(write({ version: 1, etag, bindings: [{ role: WI_ROLE, members: [ksa('b')] }] })),
    ).toMatchObject({
      status: 400,
    });
    // The documented hazard: a blind version-1 write replaces the policy and the condition is lost.
    const blind = await write({ version: 1, bindings: [{ role: WI_ROLE, members: [ksa('b')] }] });
    expect(blind).toEqual({ version: 1, etag: blind.etag, bindings: [{ role: WI_ROLE, members: [ksa('b')] }] });
  });
});
