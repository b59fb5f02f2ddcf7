import fc from 'fast-check';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import type { DesiredGrant } from '../../shared/plan/subjects.ts';
import { grantArb } from './arbitraries.ts';
import { ISSUER_HOST_PATH, PROVIDER_ARN } from './fixtures.ts';

/**
 * Existing trust policies with explicit Deny statements and hand-edited managed statements, built around one grant so
 * the Deny values hit its subjects often: the inputs of the "granted means IAM allows" properties.
 */

export const OTHER_HOST_PATH = 'oidc.eks.eu-central-1.amazonaws.com/id/OTHERISSUER';
export const OTHER_PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${OTHER_HOST_PATH}`;
const SUB = `${ISSUER_HOST_PATH}:sub`;
const AUD = `${ISSUER_HOST_PATH}:aud`;

const valueArb = (grant: DesiredGrant) =>
  fc.oneof(
    fc.constantFrom(
      'system:serviceaccount:*:*-worker-serviceaccount',
      'system:serviceaccount:*:*',
      'system:serviceaccount:other-ns:*',
      '*-kpo',
      'sts.amazonaws.com',
      'other-audience',
      '*',
    ),
    fc.constantFrom(...grant.components.map((c) => c.subject), `system:serviceaccount:${grant.namespace}:*`),
  );

const leafArb = (grant: DesiredGrant) =>
  fc.oneof(
    fc.record({
      operator: fc.constantFrom(
        'StringEquals',
        'StringNotEquals',
        'StringLike',
        'StringNotLike',
        'StringEqualsIgnoreCase',
        'ForAnyValue:StringLike',
        'ForAllValues:StringEquals',
        'StringEqualsIfExists',
        'StringNotLikeIfExists',
      ),
      key: fc.constantFrom(SUB, AUD, SUB.toUpperCase(), `${OTHER_HOST_PATH}:sub`),
      values: fc.array(valueArb(grant), { minLength: 1, maxLength: 3 }),
    }),
    fc.record({
      operator: fc.constant('Null'),
      key: fc.constantFrom(SUB, `${OTHER_HOST_PATH}:sub`),
      values: fc.constantFrom(['true'], ['false']),
    }),
    fc.record({
      operator: fc.constant('IpAddress'),
      key: fc.constant('aws:SourceIp'),
      values: fc.constant(['10.0.0.0/8']),
    }),
  );

const conditionArb = (grant: DesiredGrant) =>
  fc.array(leafArb(grant), { maxLength: 3 }).map((leaves) => {
    const condition: Record<string, JsonObject> = {};
    for (const { operator, key, values } of leaves) condition[operator] = { ...condition[operator], [key]: values };
    return condition;
  });

export const denyArb = (grant: DesiredGrant): fc.Arbitrary<JsonObject> =>
  fc
    .record({
      sid: fc.option(fc.stringMatching(/^Deny[A-Za-z0-9]{0,6}$/), { nil: undefined }),
      principal: fc.constantFrom<JsonObject>(
        { Principal: '*' },
        { Principal: { Federated: PROVIDER_ARN } },
        { Principal: { AWS: '*' } },
        { Principal: { Federated: OTHER_PROVIDER } },
        { Principal: { Service: 'ec2.amazonaws.com' } },
        { NotPrincipal: { Federated: OTHER_PROVIDER } },
        { NotPrincipal: { Federated: PROVIDER_ARN } },
      ),
      action: fc.constantFrom<JsonObject>(
        { Action: 'sts:AssumeRoleWithWebIdentity' },
        { Action: 'sts:*' },
        { Action: ['sts:AssumeRole*'] },
        { Action: 'sts:TagSession' },
        { NotAction: 'sts:TagSession' },
        { NotAction: 'sts:AssumeRoleWith*' },
      ),
      condition: fc.option(conditionArb(grant), { nil: undefined }),
    })
    .map(({ sid, principal, action, condition }) => ({
      ...(sid === undefined ? {} : { Sid: sid }),
      Effect: 'Deny',
      ...principal,
      ...action,
      ...(condition === undefined || Object.keys(condition).length === 0 ? {} : { Condition: condition }),
    }));

type Edit = (statement: JsonObject & { Condition: Record<string, JsonObject> }) => JsonObject;
const EDITS: Edit[] = [
  (s) => ({ ...s, Condition: { StringEquals: { [SUB]: s.Condition.StringEquals?.[SUB] ?? [] } } }),
  (s) => ({
    ...s,
    Condition: { ...s.Condition, StringEquals: { ...s.Condition.StringEquals, [AUD]: 'other-audience' } },
  }),
  (s) => ({ ...s, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'] }),
  (s) => ({ ...s, Action: 'sts:*' }),
  (s) => ({ ...s, Principal: { Federated: [PROVIDER_ARN, OTHER_PROVIDER] } }),
  (s) => ({ ...s, Condition: { StringLike: { [AUD]: '*', [SUB]: 'system:serviceaccount:*:*' } } }),
  (s) => ({ ...s, Condition: { ...s.Condition, StringLike: { [`${ISSUER_HOST_PATH}:amr`]: 'x' } } }),
];

/** One grant and a policy around it: Deny statements, plus earlier grants whose managed statement a person edited. */
export const denyScenarioArb = grantArb.chain((grant) =>
  fc.record({
    grant: fc.constant(grant),
    denies: fc.array(denyArb(grant), { maxLength: 3 }),
    earlier: fc.array(grantArb, { maxLength: 2 }),
    edit: fc.option(fc.integer({ min: 0, max: EDITS.length - 1 }), { nil: undefined }),
  }),
);

export function editManaged(statements: JsonObject[], edit: number | undefined): JsonObject[] {
  const change = edit === undefined ? undefined : EDITS[edit];
  const index = statements.findIndex((s) => typeof s.Sid === 'string' && s.Sid.startsWith('AstroIdentitySync'));
  const target = statements[index];
  if (change === undefined || target === undefined) return statements;
  return statements.map((s, i) => (i === index ? change(target as Parameters<Edit>[0]) : s));
}
