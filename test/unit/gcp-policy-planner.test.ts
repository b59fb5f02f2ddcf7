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
    const existing = { role: WIU, members: ['serviceAccount:other.svc.id.goog[x/y]'] };
    const policy = {
      version: 3,
      etag: 'BwY1',
      auditConfigs: [
        {
          service: 'allServices',
          auditLogConfigs: [{ logType: 'DATA_READ', exemptedMembers: ['user:x@example.com'] }],
        },
      ],
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
      expect(twice).toEqual({ changed: false, added: [], present: once.added, policy: once.policy });
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

describe('planGcpPolicy present', () => {
  it('reports every member already granting the Deployment when nothing changes', () => {
    const members = COMPONENTS.map((c) => saMember(c));
    const result = plan({ bindings: [VIEWER, { role: WIU, members: ['user:x@example.com', ...members] }] });
    expect(result).toMatchObject({ changed: false, added: [], present: [...members].sort() });
  });

  it('reports the part already granted when some members are added', () => {
    const result = plan({ bindings: [{ role: WIU, members: [saMember('worker'), saMember('kpo')] }] });
    expect(result.changed).toBe(true);
    expect(result.present).toEqual([saMember('kpo'), saMember('worker')]);
    expect(result.added).not.toContain(saMember('kpo'));
  });

  it('reports members in the form found on the policy, and ignores conditional bindings', () => {
    const principalKpo = gcpMember(POOL, NS, ksa('kpo'), PRINCIPAL);
    const policy = {
      bindings: [
        { ...CONDITIONAL, members: [saMember('worker')] },
        { role: WIU, members: [principalKpo, saMember('scheduler')] },
      ],
    };
    expect(plan(policy, { memberFormat: PRINCIPAL }).present).toEqual([principalKpo, saMember('scheduler')].sort());
    // Without the project number a principal:// member cannot be recognized, so it is not reported as present.
    expect(plan(policy).present).toEqual([saMember('scheduler')]);
  });

  it('is empty on a policy without the binding', () => {
    expect(plan({}).present).toEqual([]);
  });
});

describe('asGcpPolicy', () => {
  const HINT = 'give the output of gcloud iam service-accounts get-iam-policy --format=json';

  it.each([
    ['an array', [], 'policy'],
    ['a string', 'policy', 'policy'],
    ['bindings as an object', { bindings: {} }, 'policy.bindings'],
    ['a binding without members', { bindings: [{ role: WIU }] }, 'policy.bindings.0.members'],
    ['a binding without role', { bindings: [{ members: [] }] }, 'policy.bindings.0.role'],
    ['a non-string member', { bindings: [VIEWER, { role: WIU, members: [1] }] }, 'policy.bindings.1.members.0'],
    ['a null condition', { bindings: [{ role: WIU, members: [], condition: null }] }, 'policy.bindings.0.condition'],
    ['a numeric etag', { etag: 1 }, 'policy.etag'],
    ['a string version', { version: '3' }, 'policy.version'],
    ['auditConfigs as an object', { auditConfigs: {} }, 'policy.auditConfigs'],
  ])('rejects %s', (_label, policy, field) => {
    const error = thrown(() => asGcpPolicy(policy));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toContain(HINT);
  });

  it.each([
    [
      'an AWS get-role document',
      { Role: { RoleName: 'r', AssumeRolePolicyDocument: {} } },
      '--policy.Role',
      `--policy.Role: not a field of a Google IAM policy; ${HINT}`,
    ],
    ['an unknown key', { foo: 1 }, '--policy.foo', `--policy.foo: not a field of a Google IAM policy; ${HINT}`],
    [
      'an AWS trust policy',
      { Version: '2012-10-17', Statement: [] },
      '--policy.Version',
      `--policy.Version: not a field of a Google IAM policy; --policy.Statement: not a field of a Google IAM policy; ${HINT}`,
    ],
    [
      'an unknown binding key',
      { bindings: [{ ...VIEWER, description: 'x' }] },
      '--policy.bindings.0.description',
      `--policy.bindings.0.description: not a field of a policy binding (role, members, condition); ${HINT}`,
    ],
    [
      'an unknown condition key',
      { bindings: [{ ...CONDITIONAL, condition: { ...CONDITIONAL.condition, expires: 'x' } }] },
      '--policy.bindings.0.condition.expires',
      `--policy.bindings.0.condition.expires: not a field of a binding condition (expression, title, description, location); ${HINT}`,
    ],
  ])('refuses %s, naming the foreign field', (_label, policy, field, message) => {
    const error = thrown(() => asGcpPolicy(policy, '--policy'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field, message });
  });

  it('returns a valid policy unchanged (the same object, keys in their order)', () => {
    const policy = {
      etag: 'BwYabc=',
      bindings: [VIEWER, CONDITIONAL],
      version: 3,
      auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'ADMIN_READ' }] }],
    };
    expect(asGcpPolicy(policy)).toBe(policy);
    expect(asGcpPolicy({})).toEqual({});
    const described = { ...CONDITIONAL, condition: { ...CONDITIONAL.condition, description: 'd', location: 'l' } };
    expect(asGcpPolicy({ bindings: [described] })).toEqual({ bindings: [described] });
  });

  it('is what planGcpPolicy validates with', () => {
    expect(() => plan({ Role: {} })).toThrow(/policy\.Role: not a field of a Google IAM policy/);
  });
});
