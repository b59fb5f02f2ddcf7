import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import { PRINCIPALS_SID } from '../../shared/plan/aws/principal-trust-planner.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import { MANAGED_SID_PREFIX, planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import type { Target } from '../../shared/plan/targets.ts';
import {
  grantFor,
  ISSUER_HOST_PATH as HP,
  ISSUER,
  NAMESPACE as NS,
  PROVIDER_ARN,
  ROLE_ARN,
} from '../support/fixtures.ts';

/**
 * A managed statement a person edited is never extended: new subjects only ever go under the canonical conditions
 * (exact aud, only the web-identity action, only the issuer's provider), in a fresh statement, and the edited one is
 * reported. A converged role with an edited statement stays converged.
 */

const SUB = `${HP}:sub`;
const AUD = `${HP}:aud`;
const role = { cloud: 'aws', id: ROLE_ARN, roleArn: ROLE_ARN } as const;
const irsa: Extract<Target, { kind: 'aws-role' }> = { ...role, kind: 'aws-role' };
const trusted: Extract<Target, { kind: 'aws-role-principal' }> = { ...role, kind: 'aws-role-principal' };
const input = { issuer: ISSUER, pool: undefined, roles: undefined, dr: false, principal: undefined };
const statementsOf = (policy: { Statement: unknown }) => policy.Statement as JsonObject[];

/** Our statement for another Deployment, as the tool wrote it. */
const canonical = statementsOf(
  planAwsTrustPolicy({ policy: { Statement: [] }, roleArn: ROLE_ARN, issuer: ISSUER, grant: grantFor('earlier-ns') })
    .policy,
)[0] as JsonObject & { Condition: { StringEquals: JsonObject } };
const subs = canonical.Condition.StringEquals[SUB] as string[];

const edits: Array<[string, JsonObject]> = [
  ['aud removed', { ...canonical, Condition: { StringEquals: { [SUB]: subs } } }],
  ['aud changed', { ...canonical, Condition: { StringEquals: { [AUD]: 'other', [SUB]: subs } } }],
  [
    'aud turned into a pattern',
    { ...canonical, Condition: { StringEquals: { [SUB]: subs }, StringLike: { [AUD]: 'sts.*' } } },
  ],
  ['sts:TagSession added', { ...canonical, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'] }],
  ['Action sts:*', { ...canonical, Action: 'sts:*' }],
  [
    'StringEquals turned into StringLike',
    {
      ...canonical,
      Condition: {
        StringEquals: { [AUD]: 'sts.amazonaws.com' },
        StringLike: { [SUB]: 'system:serviceaccount:earlier-ns:*' },
      },
    },
  ],
  [
    'an extra condition key',
    { ...canonical, Condition: { ...canonical.Condition, StringLike: { [`${HP}:amr`]: 'x' } } },
  ],
  [
    'another principal',
    { ...canonical, Principal: { Federated: [PROVIDER_ARN, 'arn:aws:iam::123456789012:oidc-provider/x'] } },
  ],
];

describe('an edited managed statement', () => {
  it.each(edits)(
    '%s: is kept as it is, reported, and new subjects go to a fresh canonical statement',
    (_label, edited) => {
      const current = { policy: { Version: '2012-10-17', Statement: [edited] }, quota: 4096 };
      const plan = awsRoleTrustKind.grant(current, { ...input, target: irsa, grant: grantFor(NS) });
      expect(plan.changed).toBe(true);
      const [kept, fresh, ...rest] = statementsOf(plan.next.policy);
      expect(rest).toEqual([]);
      expect(kept).toEqual(edited);
      expect(fresh?.Sid).not.toBe(edited.Sid);
      expect(String(fresh?.Sid).startsWith(MANAGED_SID_PREFIX)).toBe(true);
      expect(fresh).toEqual({
        Sid: fresh?.Sid,
        Effect: 'Allow',
        Principal: { Federated: PROVIDER_ARN },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [AUD]: 'sts.amazonaws.com', [SUB]: grantFor(NS).subjects } },
      });
      expect(plan.warnings).toEqual([
        expect.stringContaining(`managed statement ${String(edited.Sid)} was edited by hand`),
      ]);
      // Converged: a second plan writes nothing and still reports the edited statement.
      const again = awsRoleTrustKind.grant(plan.next, { ...input, target: irsa, grant: grantFor(NS) });
      expect(again.changed).toBe(false);
      expect(again.warnings).toEqual(plan.warnings);
    },
  );

  it('a subject the edited statement still grants (a weaker aud) counts as present: nothing written, reported', () => {
    const weakened = { ...canonical, Condition: { StringEquals: { [SUB]: subs } } };
    const plan = awsRoleTrustKind.grant(
      { policy: { Statement: [weakened] }, quota: 4096 },
      { ...input, target: irsa, grant: grantFor('earlier-ns') },
    );
    expect(plan).toMatchObject({ changed: false, added: [], present: [...subs].sort() });
    expect(plan.warnings).toHaveLength(1);
  });

  it('a subject the edited statement holds under a stricter condition is granted canonically', () => {
    const stricter = { ...canonical, Condition: { ...canonical.Condition, StringLike: { [`${HP}:amr`]: 'x' } } };
    const plan = awsRoleTrustKind.grant(
      { policy: { Statement: [stricter] }, quota: 4096 },
      { ...input, target: irsa, grant: grantFor('earlier-ns') },
    );
    expect(plan).toMatchObject({ changed: true, added: [...subs].sort() });
    expect(statementsOf(plan.next.policy)[0]).toEqual(stricter);
  });

  it('a canonical statement is extended and not reported', () => {
    const plan = awsRoleTrustKind.grant(
      { policy: { Statement: [canonical] }, quota: 4096 },
      { ...input, target: irsa, grant: grantFor(NS) },
    );
    expect(statementsOf(plan.next.policy)).toHaveLength(1);
    expect(plan.warnings).toBeUndefined();
  });
});

describe('an edited principals statement', () => {
  const ASTRO_A = 'arn:aws:iam::999999999999:role/astro-a';
  const ASTRO_B = 'arn:aws:iam::999999999999:role/astro-b';
  const ours = { Sid: PRINCIPALS_SID, Effect: 'Allow', Principal: { AWS: [ASTRO_A] }, Action: 'sts:AssumeRole' };
  it.each<[string, JsonObject]>([
    ['a condition added', { ...ours, Condition: { StringEquals: { 'sts:ExternalId': 'x' } } }],
    ['an action added', { ...ours, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
  ])('%s: is not extended, is reported, and stays converged', (_label, edited) => {
    const grant = { ...input, target: trusted, grant: grantFor(NS), principal: ASTRO_B };
    const plan = awsPrincipalTrustKind.grant({ policy: { Statement: [edited] }, quota: 4096 }, grant);
    const [kept, fresh] = statementsOf(plan.next.policy);
    expect(kept).toEqual(edited);
    expect(fresh).toEqual({ ...ours, Sid: `${PRINCIPALS_SID}X`, Principal: { AWS: [ASTRO_B] } });
    expect(plan.warnings).toEqual([expect.stringContaining(`managed statement ${PRINCIPALS_SID} was edited by hand`)]);
    expect(awsPrincipalTrustKind.grant(plan.next, grant)).toMatchObject({ changed: false, present: [ASTRO_B] });
  });
});
