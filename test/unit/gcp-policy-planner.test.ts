import { describe, expect, it } from 'vitest';
import { DoesNotFitError, ValidationError } from '../../shared/errors.ts';
import {
  asGcpPolicy,
  GCP_MAX_MEMBERS,
  type GcpMemberFormat,
  gcpMember,
  planGcpPolicy,
  WORKLOAD_IDENTITY_USER as WIU,
} from '../../shared/plan/gcp/policy-planner.ts';
import { grantFor, NAMESPACE as NS, POOL, PROJECT_NUMBER, thrown } from '../support/fixtures.ts';

const SA_FORMAT: GcpMemberFormat = { kind: 'service-account' };
const PRINCIPAL: GcpMemberFormat = { kind: 'principal', projectNumber: PROJECT_NUMBER };
const ksa = (component: string) => (component === 'kpo' ? `${NS}-kpo` : `${NS}-${component}-serviceaccount`);
const saMember = (component: string, namespace = NS) =>
  `serviceAccount:${POOL}[${namespace}/${component === 'kpo' ? `${namespace}-kpo` : `${namespace}-${component}-serviceaccount`}]`;
const COMPONENTS = ['apiserver', 'dag-processor', 'kpo', 'scheduler', 'triggerer', 'worker'];
const CONDITIONAL = {
  role: WIU,
  members: ['user:alice@example.com'],
  condition: { title: 'expires', expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' },
};
const VIEWER = { role: 'roles/iam.serviceAccountTokenCreator', members: ['group:ops@example.com'] };
const plan = (
  policy: unknown,
  extra: { memberFormat?: GcpMemberFormat; maxMembers?: number } = {},
  grant = grantFor(NS),
) => planGcpPolicy({ policy, grant, pool: POOL, ...extra });

describe('gcpMember', () => {
  it.each([
    [SA_FORMAT, `serviceAccount:${POOL}[${NS}/${NS}-kpo]`],
    [
      PRINCIPAL,
      `principal://iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/${POOL}/subject/ns/${NS}/sa/${NS}-kpo`,
    ],
  ])('formats %j', (format, expected) => {
    expect(gcpMember(POOL, NS, `${NS}-kpo`, format)).toBe(expected);
  });

  it.each([
    ['a bad pool', 'project.example.com', SA_FORMAT],
    ['a project id as number', POOL, { kind: 'principal', projectNumber: 'my-project' } as const],
  ])('rejects %s', (_label, pool, format) => {
    expect(() => gcpMember(pool, NS, `${NS}-kpo`, format)).toThrow(ValidationError);
  });
});

describe('planGcpPolicy', () => {
  it('creates the unconditional workloadIdentityUser binding when missing', () => {
    const policy = { version: 3, etag: 'BwYabc=', bindings: [VIEWER, CONDITIONAL] };
    const result = plan(policy);
    expect(result.changed).toBe(true);
    expect(result.added).toEqual(COMPONENTS.map((c) => saMember(c)));
    expect(result.policy).toEqual({
      version: 3,
      etag: 'BwYabc=',
      bindings: [VIEWER, CONDITIONAL, { role: WIU, members: COMPONENTS.map((c) => saMember(c)) }],
    });
  });

  it('creates bindings on an empty policy', () => {
    expect(plan({ etag: 'ACAB' }).policy).toEqual({
      etag: 'ACAB',
      bindings: [{ role: WIU, members: COMPONENTS.map((c) => saMember(c)) }],
    });
  });

  it('appends to the existing unconditional binding and keeps everything else exactly', () => {
    const existing = { role: WIU, members: ['serviceAccount:other.svc.id.goog[x/y]'], description: 'kept' };
    const policy = {
      version: 3,
      etag: 'BwY1',
      auditConfigs: [{ service: 'allServices' }],
      bindings: [CONDITIONAL, existing, VIEWER],
    };
    const snapshot = structuredClone(policy);
    const result = plan(policy);
    expect(result.policy).toEqual({
      ...snapshot,
      bindings: [
        CONDITIONAL,
        { ...existing, members: ['serviceAccount:other.svc.id.goog[x/y]', ...COMPONENTS.map((c) => saMember(c))] },
        VIEWER,
      ],
    });
    expect(policy).toEqual(snapshot);
  });

  it('does not count members of the conditional binding as granted', () => {
    const conditional = { ...CONDITIONAL, members: [saMember('kpo')] };
    const result = plan({ bindings: [conditional] }, {}, grantFor(NS, { components: ['kpo'] }));
    expect(result.added).toEqual([saMember('kpo')]);
    expect(result.policy.bindings).toEqual([conditional, { role: WIU, members: [saMember('kpo')] }]);
  });

  it('adds only missing members and accepts the other member form as granted', () => {
    const principalKpo = gcpMember(POOL, NS, ksa('kpo'), PRINCIPAL);
    const policy = { bindings: [{ role: WIU, members: [saMember('kpo'), saMember('worker')] }] };
    expect(plan(policy, { memberFormat: PRINCIPAL }).added).toEqual(
      ['apiserver', 'dag-processor', 'scheduler', 'triggerer'].map((c) => gcpMember(POOL, NS, ksa(c), PRINCIPAL)),
    );
    expect(plan(policy).added).toEqual(
      ['apiserver', 'dag-processor', 'scheduler', 'triggerer'].map((c) => saMember(c)),
    );
    const principalOnly = { bindings: [{ role: WIU, members: [principalKpo] }] };
    expect(plan(principalOnly, { memberFormat: PRINCIPAL }).added).not.toContain(principalKpo);
  });

  it('uses component members even when the namespace wildcard applies', () => {
    expect(plan({}, {}, grantFor(NS, { wildcard: true })).added).toEqual(COMPONENTS.map((c) => saMember(c)));
  });

  it('is idempotent in both member formats', () => {
    for (const memberFormat of [SA_FORMAT, PRINCIPAL]) {
      const once = plan({ etag: 'e', bindings: [VIEWER] }, { memberFormat });
      const twice = plan(once.policy, { memberFormat });
      expect(twice).toEqual({ changed: false, added: [], policy: once.policy });
      expect(JSON.stringify(twice.policy)).toBe(JSON.stringify(once.policy));
    }
  });

  it('counts members across all bindings against the limit, all or nothing', () => {
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `user:u${i}@example.com`);
    const policy = {
      bindings: [
        { role: 'roles/viewer', members: filler(1000) },
        { role: WIU, members: filler(494) },
      ],
    };
    expect(plan(policy).policy.bindings?.[1]?.members).toHaveLength(500);
    const error = thrown(() => plan({ bindings: [{ role: 'roles/viewer', members: filler(1495) }] }));
    expect(error).toBeInstanceOf(DoesNotFitError);
    expect(error).toMatchObject({ code: 'does_not_fit', size: 1501, limit: GCP_MAX_MEMBERS });
    expect((error as DoesNotFitError).remedies.length).toBeGreaterThan(0);
    expect(() => plan({}, { maxMembers: 5 })).toThrow(/6 members; Google allows 5/);
  });

  it('does not check the limit when nothing is added', () => {
    const full = plan({});
    expect(plan(full.policy, { maxMembers: 1 }).changed).toBe(false);
  });

  it('refuses a hand-made grant outside its namespace', () => {
    const base = grantFor(NS, { components: ['kpo'] });
    const forged = {
      ...base,
      components: [
        { component: 'kpo', serviceAccount: 'victim-kpo', subject: 'system:serviceaccount:victim:victim-kpo' },
      ],
    };
    expect(() => plan({}, {}, forged)).toThrow(ValidationError);
    expect(() => plan({}, {}, { ...base, namespace: 'victim' })).toThrow(ValidationError);
  });
});

describe('asGcpPolicy', () => {
  it.each([
    ['an array', [], 'policy'],
    ['bindings as an object', { bindings: {} }, 'policy.bindings'],
    ['a binding without members', { bindings: [{ role: WIU }] }, 'policy.bindings.0'],
    ['a non-string member', { bindings: [VIEWER, { role: WIU, members: [1] }] }, 'policy.bindings.1'],
    ['a null condition', { bindings: [{ role: WIU, members: [], condition: null }] }, 'policy.bindings.0'],
  ])('rejects %s', (_label, policy, field) => {
    const error = thrown(() => asGcpPolicy(policy));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
  });

  it('returns a valid policy unchanged', () => {
    const policy = { version: 1, bindings: [VIEWER] };
    expect(asGcpPolicy(policy)).toBe(policy);
  });
});
