import { describe, expect, it } from 'vitest';
import { DoesNotFitError, ValidationError } from '../../shared/errors.ts';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { irsaKeys, MANAGED_SID_PREFIX, planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import {
  airflow3Subjects,
  grantFor,
  ISSUER_HOST_PATH as HP,
  ISSUER,
  NAMESPACE as NS,
  PROVIDER_ARN,
  ROLE_ARN,
  subject,
  thrown,
} from '../support/fixtures.ts';

const EC2: JsonObject = {
  Sid: 'Ec2',
  Effect: 'Allow',
  Principal: { Service: 'ec2.amazonaws.com' },
  Action: 'sts:AssumeRole',
};
const OTHER: JsonObject = {
  Effect: 'Allow',
  Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:org/*' } },
};
const policyOf = (...statements: JsonObject[]) => ({ Version: '2012-10-17', Statement: statements });
const plan = (policy: unknown, grant = grantFor(NS), maxSize?: number) =>
  planAwsTrustPolicy({ policy, roleArn: ROLE_ARN, issuer: ISSUER, grant, ...(maxSize ? { maxSize } : {}) });
const statementsOf = (policy: { Statement: JsonObject | JsonObject[] }) =>
  Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
const managed = (policy: { Statement: JsonObject | JsonObject[] }) =>
  statementsOf(policy).filter((s) => typeof s.Sid === 'string' && s.Sid.startsWith(MANAGED_SID_PREFIX));
const granting = (overrides: JsonObject, sub: unknown = subject(NS, `${NS}-kpo`)): JsonObject => ({
  Effect: 'Allow',
  Principal: { Federated: PROVIDER_ARN },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com', [`${HP}:sub`]: sub } },
  ...overrides,
});

describe('irsaKeys', () => {
  it.each([
    [ROLE_ARN, ISSUER, PROVIDER_ARN],
    [ROLE_ARN, `${ISSUER}/`, PROVIDER_ARN],
    [
      'arn:aws-cn:iam::210987654321:role/path/r',
      'https://oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC',
      'arn:aws-cn:iam::210987654321:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC',
    ],
    [
      'arn:aws-us-gov:iam::000000000001:role/r',
      'https://issuer.example.com/',
      'arn:aws-us-gov:iam::000000000001:oidc-provider/issuer.example.com',
    ],
  ])('%s + %s -> %s', (roleArn, issuer, provider) => {
    const keys = irsaKeys(roleArn, issuer);
    expect(keys.provider).toBe(provider);
    expect(keys.subKey).toBe(`${provider.split('oidc-provider/')[1]}:sub`);
    expect(keys.audKey).toBe(`${provider.split('oidc-provider/')[1]}:aud`);
  });
});

describe('planAwsTrustPolicy', () => {
  it('appends one managed statement granting the sorted subjects', () => {
    const result = plan(policyOf(EC2));
    expect(result.changed).toBe(true);
    expect(result.added).toEqual(airflow3Subjects(NS));
    const statements = statementsOf(result.policy);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toEqual(EC2);
    expect(statements[1]?.Sid).toMatch(/^AstroIdentitySync[0-9A-F]{8}$/);
    expect(statements[1]).toEqual({
      Sid: statements[1]?.Sid,
      Effect: 'Allow',
      Principal: { Federated: PROVIDER_ARN },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com', [`${HP}:sub`]: airflow3Subjects(NS) } },
    });
    expect(result.policy.Version).toBe('2012-10-17');
    expect(result.size).toBe(JSON.stringify(result.policy).length);
  });

  it('uses the account and partition of the role in the provider ARN', () => {
    const result = planAwsTrustPolicy({
      policy: policyOf(),
      roleArn: 'arn:aws-us-gov:iam::000000000001:role/team/r',
      issuer: `${ISSUER}/`,
      grant: grantFor(NS),
    });
    expect(managed(result.policy)[0]?.Principal).toEqual({
      Federated: `arn:aws-us-gov:iam::000000000001:oidc-provider/${HP}`,
    });
  });

  it('grants a namespace wildcard in a separate StringLike statement', () => {
    const result = plan(policyOf(EC2), grantFor(NS, { wildcard: true }));
    const [statement] = managed(result.policy);
    expect(result.added).toEqual([`system:serviceaccount:${NS}:*`]);
    expect(statement?.Sid).toMatch(/^AstroIdentitySyncNs[0-9A-F]{8}$/);
    expect(statement?.Condition).toEqual({
      StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com' },
      StringLike: { [`${HP}:sub`]: [`system:serviceaccount:${NS}:*`] },
    });
    const explicit = plan(result.policy);
    expect(explicit.changed).toBe(false);
  });

  it('preserves every other statement exactly and in order, including a single Statement object', () => {
    const deny = { ...OTHER, Effect: 'Deny', Sid: 'DenyAll' };
    const original = policyOf(EC2, OTHER, deny);
    const snapshot = structuredClone(original);
    const result = plan(original);
    expect(statementsOf(result.policy).slice(0, 3)).toEqual(snapshot.Statement);
    expect(original).toEqual(snapshot);
    const single = plan({ Version: '2012-10-17', Statement: EC2 });
    expect(statementsOf(single.policy)[0]).toEqual(EC2);
    expect(statementsOf(single.policy)).toHaveLength(2);
  });

  it.each<[string, JsonObject]>([
    ['StringEquals string', granting({})],
    ['StringEquals array', granting({}, ['x', subject(NS, `${NS}-kpo`)])],
    ['StringLike with *', granting({ Condition: { StringLike: { [`${HP}:sub`]: `system:serviceaccount:${NS}:*` } } })],
    [
      'StringLike with ?',
      granting({ Condition: { StringLike: { [`${HP}:sub`]: `system:serviceaccount:${NS}:${NS}-kp?` } } }),
    ],
    ['no aud condition', granting({ Condition: { StringEquals: { [`${HP}:sub`]: subject(NS, `${NS}-kpo`) } } })],
    [
      'an upper-case condition key',
      granting({ Condition: { StringEquals: { [`${HP}:SUB`.toUpperCase()]: subject(NS, `${NS}-kpo`) } } }),
    ],
    [
      'an action list and a provider list',
      granting({ Action: ['sts:TagSession', 'sts:*'], Principal: { Federated: ['x', PROVIDER_ARN] } }),
    ],
  ])('does not re-add a subject already granted by an Allow statement (%s)', (_label, statement) => {
    const result = plan(policyOf(statement), grantFor(NS, { components: ['kpo'] }));
    expect(result).toMatchObject({ changed: false, added: [] });
    expect(result.policy).toEqual(policyOf(statement));
  });

  it.each<[string, JsonObject]>([
    ['another provider', granting({ Principal: { Federated: PROVIDER_ARN.replace('123456789012', '210987654321') } })],
    ['another action', granting({ Action: 'sts:AssumeRole' })],
    ['NotPrincipal', { ...granting({}), NotPrincipal: { AWS: '*' } }],
    [
      'another audience',
      granting({ Condition: { StringEquals: { [`${HP}:aud`]: 'other', [`${HP}:sub`]: subject(NS, `${NS}-kpo`) } } }),
    ],
    [
      'an extra operator',
      granting({ Condition: { StringEquals: { [`${HP}:sub`]: subject(NS, `${NS}-kpo`) }, Bool: { x: 'true' } } }),
    ],
    [
      'an unrelated condition key',
      granting({ Condition: { StringEquals: { [`${HP}:sub`]: subject(NS, `${NS}-kpo`), 'aws:SourceIp': '1.2.3.4' } } }),
    ],
    ['only an aud condition', granting({ Condition: { StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com' } } })],
    [
      'a near-miss pattern',
      granting({ Condition: { StringLike: { [`${HP}:sub`]: `system:serviceaccount:${NS}x:*` } } }),
    ],
  ])('still grants when the only match is %s', (_label, statement) => {
    const result = plan(policyOf(statement), grantFor(NS, { components: ['kpo'] }));
    expect(result.changed).toBe(true);
    expect(result.added).toEqual([subject(NS, `${NS}-kpo`)]);
    expect(statementsOf(result.policy)[0]).toEqual(statement);
    expect(managed(result.policy)).toHaveLength(1);
  });

  it('adds only the missing subjects', () => {
    const result = plan(policyOf(granting({})));
    expect(result.added).toEqual(airflow3Subjects(NS).filter((s) => !s.endsWith(`${NS}-kpo`)));
  });

  describe('present', () => {
    it('reports the subjects already granted by any Allow statement when some are added', () => {
      const result = plan(policyOf(EC2, granting({})));
      expect(result.changed).toBe(true);
      expect(result.present).toEqual([subject(NS, `${NS}-kpo`)]);
    });

    it('reports every subject, sorted, when nothing changes', () => {
      const once = plan(policyOf(EC2));
      const twice = plan(once.policy);
      expect(twice).toMatchObject({ changed: false, added: [], present: airflow3Subjects(NS) });
      expect(once.present).toEqual([]);
    });

    it('counts a subject granted by a pattern, in a statement that is not ours', () => {
      const pattern = granting({ Condition: { StringLike: { [`${HP}:sub`]: `system:serviceaccount:${NS}:*` } } });
      expect(plan(policyOf(pattern))).toMatchObject({ changed: false, present: airflow3Subjects(NS) });
      const wildcard = plan(policyOf(pattern), grantFor(NS, { wildcard: true }));
      expect(wildcard).toMatchObject({ changed: false, present: [`system:serviceaccount:${NS}:*`] });
    });

    it('does not count a Deny statement or another namespace', () => {
      const result = plan(policyOf(granting({ Effect: 'Deny' }), granting({}, subject('other', 'other-kpo'))));
      expect(result.present).toEqual([]);
    });
  });

  it('keeps two Deployments on one role in one managed statement', () => {
    const first = plan(policyOf(EC2));
    const second = plan(first.policy, grantFor('other-deployment-0001'));
    const [statement] = managed(second.policy);
    expect(managed(second.policy)).toHaveLength(1);
    expect(statementsOf(second.policy)).toHaveLength(2);
    const subs = [...airflow3Subjects(NS), ...airflow3Subjects('other-deployment-0001')].sort();
    expect(statement?.Condition).toEqual({ StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com', [`${HP}:sub`]: subs } });
    expect(second.added).toEqual(airflow3Subjects('other-deployment-0001'));
  });

  it('keeps one managed statement per issuer', () => {
    const first = plan(policyOf());
    const second = planAwsTrustPolicy({
      policy: first.policy,
      roleArn: ROLE_ARN,
      issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/OTHER',
      grant: grantFor(NS),
    });
    const sids = managed(second.policy).map((s) => s.Sid);
    expect(sids).toHaveLength(2);
    expect(new Set(sids).size).toBe(2);
    expect(statementsOf(second.policy)[0]).toEqual(statementsOf(first.policy)[0]);
  });

  it('does not reuse a Sid held by another statement', () => {
    const sid = managed(plan(policyOf()).policy)[0]?.Sid;
    const squatter = { ...EC2, Sid: sid };
    const result = plan(policyOf(squatter));
    expect(statementsOf(result.policy)[0]).toEqual(squatter);
    expect(statementsOf(result.policy)[1]?.Sid).toBe(`${sid}X`);
  });

  it('is idempotent: a second plan changes nothing', () => {
    for (const grant of [grantFor(NS), grantFor(NS, { wildcard: true })]) {
      const once = plan(policyOf(EC2, OTHER), grant);
      const twice = plan(once.policy, grant);
      expect(twice.changed).toBe(false);
      expect(twice.added).toEqual([]);
      expect(JSON.stringify(twice.policy)).toBe(JSON.stringify(once.policy));
      expect(twice.size).toBe(once.size);
    }
  });

  it('throws DoesNotFitError past the size limit, with size, limit and remedies', () => {
    const fits = plan(policyOf(EC2));
    expect(plan(policyOf(EC2), grantFor(NS), fits.size).changed).toBe(true);
    const error = thrown(() => plan(policyOf(EC2), grantFor(NS), fits.size - 1));
    expect(error).toBeInstanceOf(DoesNotFitError);
    expect(error).toMatchObject({ code: 'does_not_fit', size: fits.size, limit: fits.size - 1 });
    expect((error as DoesNotFitError).remedies.length).toBeGreaterThanOrEqual(2);
    expect((error as DoesNotFitError).remedies.join(' ')).toContain('L-C07B4B0D');
    expect((error as Error).message).toContain(ROLE_ARN);
  });

  it('defaults the limit to 2048 characters', () => {
    let policy: unknown = policyOf(EC2);
    const error = thrown(() => {
      for (let i = 0; i < 100; i++) policy = plan(policy, grantFor(`deployment-${i}`)).policy;
    });
    expect(error).toMatchObject({ limit: 2048 });
    expect(JSON.stringify(policy).length).toBeLessThanOrEqual(2048);
    expect((error as DoesNotFitError).size).toBeGreaterThan(2048);
  });

  it.each([
    [
      'a subject in another namespace',
      { ...grantFor(NS), subjects: [subject('victim', 'victim-kpo')] },
      /outside namespace/,
    ],
    [
      '*:*',
      { ...grantFor(NS, { wildcard: true }), namespace: '*', subjects: ['system:serviceaccount:*:*'] },
      /namespace/,
    ],
  ])('refuses a hand-made grant with %s', (_label, grant, message) => {
    expect(() => plan(policyOf(EC2), grant)).toThrow(message);
  });

  it.each([
    ['an http issuer', { issuer: 'http://issuer.example.com' }],
    ['a user ARN', { roleArn: 'arn:aws:iam::123456789012:user/u' }],
    ['a policy without Statement', { policy: { Version: '2012-10-17' } }],
  ])('rejects %s', (_label, overrides) => {
    const input = { policy: policyOf(), roleArn: ROLE_ARN, issuer: ISSUER, grant: grantFor(NS), ...overrides };
    expect(() => planAwsTrustPolicy(input)).toThrow(ValidationError);
  });
});
