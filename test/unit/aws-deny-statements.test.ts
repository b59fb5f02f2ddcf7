import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { planAwsPrincipalTrust } from '../../shared/plan/aws/principal-trust-planner.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import {
  grantFor,
  ISSUER_HOST_PATH as HP,
  ISSUER,
  NAMESPACE as NS,
  PROVIDER_ARN,
  ROLE_ARN,
  subject,
} from '../support/fixtures.ts';

/** Explicit Deny statements judged as IAM does: a subject one covers is blocked, named by Sid, and never written. */

const SUB = `${HP}:sub`;
const AUD = `${HP}:aud`;
const WORKER = subject(NS, `${NS}-worker-serviceaccount`);
const KPO = subject(NS, `${NS}-kpo`);
const OTHER_HP = 'oidc.eks.eu-west-1.amazonaws.com/id/OTHER';
const deny = (fields: JsonObject): JsonObject => ({
  Sid: 'NoWorkers',
  Effect: 'Deny',
  Principal: { Federated: PROVIDER_ARN },
  Action: 'sts:AssumeRoleWithWebIdentity',
  ...fields,
});
const plan = (statements: JsonObject[], wildcard = false) =>
  planAwsTrustPolicy({
    policy: { Version: '2012-10-17', Statement: statements },
    roleArn: ROLE_ARN,
    issuer: ISSUER,
    grant: grantFor(NS, { components: ['kpo', 'worker'], wildcard }),
  });
const blockedOf = (statements: JsonObject[], wildcard = false) =>
  Object.fromEntries(plan(statements, wildcard).blocked.map((b) => [b.subject, b.effect]));

describe('Deny statements on the web-identity request', () => {
  it.each<[string, JsonObject, Record<string, string>]>([
    [
      'worker pattern',
      deny({ Condition: { StringLike: { [SUB]: 'system:serviceaccount:*:*-worker-serviceaccount' } } }),
      { [WORKER]: 'applies' },
    ],
    [
      'the namespace',
      deny({ Condition: { StringLike: { [SUB]: `system:serviceaccount:${NS}:*` } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    ['the issuer, no condition', deny({}), { [WORKER]: 'applies', [KPO]: 'applies' }],
    ['Principal *', deny({ Principal: '*' }), { [WORKER]: 'applies', [KPO]: 'applies' }],
    ['Principal AWS *', deny({ Principal: { AWS: '*' } }), { [WORKER]: 'applies', [KPO]: 'applies' }],
    ['Action sts:*', deny({ Action: 'sts:*' }), { [WORKER]: 'applies', [KPO]: 'applies' }],
    ['Action sts:AssumeRole*', deny({ Action: ['sts:AssumeRole*'] }), { [WORKER]: 'applies', [KPO]: 'applies' }],
    [
      'Action in other case',
      deny({ Action: 'STS:assumerolewithwebidentity' }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    [
      'NotAction of another action',
      { ...deny({}), Action: undefined, NotAction: 'sts:TagSession' },
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    [
      'NotPrincipal of another provider',
      { ...deny({ Principal: undefined }), NotPrincipal: { Federated: 'arn:aws:iam::1:oidc-provider/x' } },
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    ['StringEquals on the worker', deny({ Condition: { StringEquals: { [SUB]: WORKER } } }), { [WORKER]: 'applies' }],
    ['StringNotEquals all but kpo', deny({ Condition: { StringNotEquals: { [SUB]: KPO } } }), { [WORKER]: 'applies' }],
    [
      'StringNotLike all but *-kpo',
      deny({ Condition: { StringNotLike: { [SUB]: '*-kpo' } } }),
      { [WORKER]: 'applies' },
    ],
    [
      'IgnoreCase',
      deny({ Condition: { StringEqualsIgnoreCase: { [SUB]: WORKER.toUpperCase() } } }),
      { [WORKER]: 'applies' },
    ],
    [
      'ForAnyValue:StringLike',
      deny({ Condition: { 'ForAnyValue:StringLike': { [SUB]: '*worker*' } } }),
      { [WORKER]: 'applies' },
    ],
    [
      'ForAllValues:StringLike',
      deny({ Condition: { 'ForAllValues:StringLike': { [SUB]: '*worker*' } } }),
      { [WORKER]: 'applies' },
    ],
    ['an audience other than sts', deny({ Condition: { StringNotEquals: { [AUD]: 'sts.amazonaws.com' } } }), {}],
    [
      'aud is sts',
      deny({ Condition: { StringEquals: { [AUD]: 'sts.amazonaws.com' } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    ['upper-case key', deny({ Condition: { StringEquals: { [SUB.toUpperCase()]: WORKER } } }), { [WORKER]: 'applies' }],
    [
      'Null sub false (present)',
      deny({ Condition: { Null: { [SUB]: 'false' } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    ['Null sub true', deny({ Condition: { Null: { [SUB]: 'true' } } }), {}],
    [
      "another issuer's key, Null true",
      deny({ Condition: { Null: { [`${OTHER_HP}:sub`]: 'true' } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    ["another issuer's key, StringLike", deny({ Condition: { StringLike: { [`${OTHER_HP}:sub`]: '*' } } }), {}],
    [
      "another issuer's key, StringNotEquals",
      deny({ Condition: { StringNotEquals: { [`${OTHER_HP}:sub`]: 'x' } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    [
      "another issuer's key, StringEqualsIfExists",
      deny({ Condition: { StringEqualsIfExists: { [`${OTHER_HP}:sub`]: 'x' } } }),
      { [WORKER]: 'applies', [KPO]: 'applies' },
    ],
    [
      "another issuer's key, ForAnyValue",
      deny({ Condition: { 'ForAnyValue:StringEquals': { [`${OTHER_HP}:sub`]: 'x' } } }),
      {},
    ],
    [
      'IfExists on a present key',
      deny({ Condition: { StringLikeIfExists: { [SUB]: '*-kpo' } } }),
      { [KPO]: 'applies' },
    ],
    [
      'two operators ANDed',
      deny({ Condition: { StringLike: { [SUB]: '*worker*' }, StringEquals: { [AUD]: 'other' } } }),
      {},
    ],
    [
      'an unknown key (aws:SourceIp)',
      deny({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }),
      { [WORKER]: 'doubtful', [KPO]: 'doubtful' },
    ],
    [
      'an unknown operator on sub',
      deny({ Condition: { ArnLike: { [SUB]: '*' } } }),
      { [WORKER]: 'doubtful', [KPO]: 'doubtful' },
    ],
    [
      'a policy variable',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
      deny({ Condition: { StringEquals: { [SUB]: '${aws:username}' } } }),
      { [WORKER]: 'doubtful', [KPO]: 'doubtful' },
    ],
    [
      'a false condition beats an unknown one',
      deny({ Condition: { StringEquals: { [SUB]: 'x' }, Bool: { 'aws:SecureTransport': 'true' } } }),
      {},
    ],
    ['another provider', deny({ Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${OTHER_HP}` } }), {}],
    ['a service principal', deny({ Principal: { Service: 'ec2.amazonaws.com' } }), {}],
    ['another action', deny({ Action: ['sts:AssumeRole', 'sts:TagSession'] }), {}],
    ['NotAction of web identity', { ...deny({}), Action: undefined, NotAction: 'sts:AssumeRoleWith*' }, {}],
    [
      'NotPrincipal of our provider',
      { ...deny({ Principal: undefined }), NotPrincipal: { Federated: PROVIDER_ARN } },
      {},
    ],
    ['an Allow', { ...deny({}), Effect: 'Allow' }, {}],
  ])('%s', (_label, statement, expected) => {
    const clean = JSON.parse(JSON.stringify(statement)) as JsonObject;
    expect(blockedOf([clean])).toEqual(expected);
  });

  it('writes nothing for a blocked subject and names the statement', () => {
    const statement = deny({ Condition: { StringLike: { [SUB]: '*-worker-serviceaccount' } } });
    const result = plan([statement]);
    expect(result.added).toEqual([KPO]);
    expect(JSON.stringify((result.policy.Statement as JsonObject[]).slice(1))).not.toContain('worker');
    expect(result.blocked).toEqual([
      expect.objectContaining({ subject: WORKER, statement: 'NoWorkers', effect: 'applies' }),
    ]);
    const again = plan(result.policy.Statement as JsonObject[]);
    expect(again).toMatchObject({ changed: false, added: [], present: [KPO] });
    expect(again.blocked.map((b) => b.subject)).toEqual([WORKER]);
  });

  it('names a statement without a Sid by its index', () => {
    const { Sid: _sid, ...anonymous } = deny({});
    expect(plan([{ Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' }, anonymous]).blocked[0]?.statement).toBe(
      'Statement[1]',
    );
  });

  it.each<[string, string, Record<string, string>]>([
    ['a pattern inside the namespace', 'StringLike', {}],
    ['the worker only', 'StringEquals', {}],
  ])('blocks a namespace pattern when a Deny covers part of it (%s)', (_label, operator) => {
    const value = operator === 'StringLike' ? `system:serviceaccount:${NS}:*-worker-*` : WORKER;
    const result = plan([deny({ Condition: { [operator]: { [SUB]: value } } })], true);
    expect(result.blocked.map((b) => b.subject)).toEqual([subject(NS, '*')]);
    expect(result.changed).toBe(false);
  });

  it.each<[string, string]>([
    ['another namespace', 'system:serviceaccount:other:*'],
    ['a StringLike that cannot meet the namespace', `system:serviceaccount:${NS}x:*`],
  ])('grants a namespace pattern a Deny does not reach (%s)', (_label, value) => {
    const result = plan([deny({ Condition: { StringLike: { [SUB]: value } } })], true);
    expect(result).toMatchObject({ changed: true, added: [subject(NS, '*')], blocked: [] });
  });

  it('lets a StringNotLike that spares the whole namespace through', () => {
    const result = plan([deny({ Condition: { StringNotLike: { [SUB]: `system:serviceaccount:${NS}:*` } } })], true);
    expect(result.blocked).toEqual([]);
  });
});

describe('Deny statements on the Principal.AWS request', () => {
  const ASTRO = 'arn:aws:iam::999999999999:role/astro-nebular-gravity-1234';
  const trust = (statement: JsonObject) =>
    planAwsPrincipalTrust({ policy: { Statement: [statement] }, roleArn: ROLE_ARN, principal: ASTRO, maxSize: 4096 });
  const awsDeny = (fields: JsonObject): JsonObject => ({
    Sid: 'NoAstro',
    Effect: 'Deny',
    Action: 'sts:AssumeRole',
    ...fields,
  });

  it.each<[string, JsonObject, string | undefined]>([
    ['the role', awsDeny({ Principal: { AWS: ASTRO } }), 'applies'],
    ['its account', awsDeny({ Principal: { AWS: '999999999999' } }), 'applies'],
    ['its account root', awsDeny({ Principal: { AWS: 'arn:aws:iam::999999999999:root' } }), 'applies'],
    ['everyone', awsDeny({ Principal: '*' }), 'applies'],
    [
      'aws:PrincipalArn like astro-*',
      awsDeny({ Principal: '*', Condition: { ArnLike: { 'aws:PrincipalArn': '*' } } }),
      'doubtful',
    ],
    [
      'aws:PrincipalAccount',
      awsDeny({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '999999999999' } } }),
      'applies',
    ],
    [
      'another account',
      awsDeny({ Principal: '*', Condition: { StringEquals: { 'aws:PrincipalAccount': '111111111111' } } }),
      undefined,
    ],
    [
      'sts:ExternalId unknown',
      awsDeny({ Principal: '*', Condition: { Null: { 'sts:ExternalId': 'true' } } }),
      'doubtful',
    ],
    ['another role', awsDeny({ Principal: { AWS: 'arn:aws:iam::999999999999:role/other' } }), undefined],
    ['web identity only', awsDeny({ Principal: '*', Action: 'sts:AssumeRoleWithWebIdentity' }), undefined],
  ])('%s', (_label, statement, effect) => {
    const result = trust(statement);
    expect(result.blocked[0]?.effect).toBe(effect);
    if (effect !== undefined) expect(result).toMatchObject({ changed: false, added: [], present: [] });
    else expect(result.added).toEqual([ASTRO]);
  });
});
