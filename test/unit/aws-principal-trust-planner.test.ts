import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import {
  isDeletedRoleId,
  ownedPrincipalsAws,
  PRINCIPALS_SID,
  planAwsPrincipalTrust,
  revokeAwsPrincipal,
  withoutDeletedRoles,
} from '../../shared/plan/aws/principal-trust-planner.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import type { Target } from '../../shared/plan/targets.ts';
import { grantFor, ISSUER, NAMESPACE, ROLE_ARN } from '../support/fixtures.ts';

const ASTRO_A = 'arn:aws:iam::999999999999:role/astro-nebular-gravity-1234';
const ASTRO_B = 'arn:aws:iam::999999999999:role/astro-cosmic-lens-5678';
/** What IAM shows once a trusted role is deleted: `AROA` + 17 upper-case letters and digits. */
const DELETED = 'AROAXYZ0123456789ABCD';
const DELETED_2 = 'AROAQQQQQQQQQQQQQQQQQ';

const EC2: JsonObject = {
  Sid: 'Ec2',
  Effect: 'Allow',
  Principal: { Service: 'ec2.amazonaws.com' },
  Action: 'sts:AssumeRole',
};
const ours = (...principals: string[]): JsonObject => ({
  Sid: PRINCIPALS_SID,
  Effect: 'Allow',
  Principal: { AWS: principals },
  Action: 'sts:AssumeRole',
});
/** A person's statement that trusts principals too (a Sid of their own, or ours edited with a condition). */
const persons = (...principals: string[]): JsonObject => ({
  Sid: 'BreakGlass',
  Effect: 'Allow',
  Principal: { AWS: principals },
  Action: 'sts:AssumeRole',
});
const edited = (...principals: string[]): JsonObject => ({
  ...ours(...principals),
  Condition: { StringEquals: { 'sts:ExternalId': 'acme' } },
});
const policyOf = (...statements: JsonObject[]) => ({ Version: '2012-10-17', Statement: statements });
const statementsOf = (policy: { Statement: unknown }) => policy.Statement as JsonObject[];
const grant = (policy: unknown, principal: string) =>
  planAwsPrincipalTrust({ policy, roleArn: ROLE_ARN, principal, maxSize: 2048 });

describe('isDeletedRoleId', () => {
  it.each([
    [DELETED, true],
    ['AROAJQABLZS4A3QDU576Q', true],
    ['AROA123', false], // too short for a unique id
    ['AROAXYZ0123456789ABCDE', false], // one too many
    ['AIDAJQABLZS4A3QDU576Q', false], // a user's id: not what a deleted role leaves
    ['aroaxyz0123456789abcd', false],
    [ASTRO_A, false],
  ])('%s -> %s', (value, expected) => {
    expect(isDeletedRoleId(value)).toBe(expected);
  });
});

describe('owned(): the principals of our own statements, deleted roles included', () => {
  it.each<[string, JsonObject[], string[]]>([
    ['our statement', [EC2, ours(ASTRO_A)], [ASTRO_A]],
    ['a deleted role in our statement', [ours(ASTRO_A, DELETED)], [ASTRO_A, DELETED]],
    ['a deleted role in a person’s statement', [persons(DELETED), ours(ASTRO_A)], [ASTRO_A]],
    ['our Sid edited by a person (a condition)', [edited(DELETED, ASTRO_A)], []],
    ['no statement of ours', [EC2, persons(ASTRO_A)], []],
  ])('%s', (_name, statements, owned) => {
    expect([...ownedPrincipalsAws(policyOf(...statements))].sort()).toEqual(owned.sort());
  });
});

describe('revoke: prune and the sweep take back our entries only', () => {
  it.each<[string, JsonObject[], string, string[], string[], JsonObject[]]>([
    [
      'a deleted role from our statement',
      [EC2, ours(ASTRO_A, DELETED), persons(DELETED)],
      DELETED,
      [DELETED],
      [],
      [EC2, ours(ASTRO_A), persons(DELETED)],
    ],
    ['the last entry: the statement goes', [EC2, ours(DELETED)], DELETED, [DELETED], [], [EC2]],
    [
      'a principal, dropping the deleted roles the write could not keep',
      [ours(ASTRO_A, ASTRO_B, DELETED, DELETED_2)],
      ASTRO_A,
      [ASTRO_A],
      [DELETED, DELETED_2].sort(),
      [ours(ASTRO_B)],
    ],
  ])('%s', (_name, statements, owner, removed, dropped, next) => {
    const plan = revokeAwsPrincipal(policyOf(...statements), owner);
    expect(plan).toMatchObject({ changed: true, removed, dropped });
    expect(statementsOf(plan.next)).toEqual(next);
  });

  it.each<[string, JsonObject[], string]>([
    ['a deleted role only a person trusts', [EC2, persons(DELETED)], DELETED],
    ['a deleted role in our Sid that a person edited', [edited(DELETED)], DELETED],
    ['a principal we do not hold', [ours(ASTRO_B, DELETED)], ASTRO_A],
  ])('leaves the document exactly as it was: %s', (_name, statements, owner) => {
    const before = policyOf(...statements);
    const text = JSON.stringify(before);
    const plan = revokeAwsPrincipal(before, owner);
    expect(plan).toMatchObject({ changed: false, removed: [], dropped: [] });
    expect(JSON.stringify(plan.next)).toBe(text);
  });
});

describe('grant: a deleted role in our statement is dropped by any write, and only by a write', () => {
  it.each<[string, JsonObject[], boolean, string[], JsonObject[]]>([
    [
      'another principal joins our statement: the deleted role goes (IAM would refuse the write with it)',
      [EC2, ours(ASTRO_A, DELETED)],
      true,
      [DELETED],
      [EC2, ours(ASTRO_B, ASTRO_A)], // sorted
    ],
    [
      'our statement held only a deleted role',
      [ours(DELETED)],
      true,
      [DELETED],
      [{ ...ours(ASTRO_B), Sid: PRINCIPALS_SID }],
    ],
    [
      'a deleted role in a person’s statement is kept (and IAM will say so)',
      [persons(DELETED), ours(ASTRO_A)],
      true,
      [],
      [persons(DELETED), ours(ASTRO_B, ASTRO_A)],
    ],
    [
      'already granted: no write, so the deleted role stays for the sweep to report',
      [ours(ASTRO_B, DELETED)],
      false,
      [],
      [ours(ASTRO_B, DELETED)],
    ],
  ])('%s', (_name, statements, changed, dropped, next) => {
    const plan = grant(policyOf(...statements), ASTRO_B);
    expect(plan).toMatchObject({ changed, dropped, added: changed ? [ASTRO_B] : [] });
    expect(statementsOf(plan.policy)).toEqual(next);
  });
});

describe('the kinds report what a write dropped, and the IRSA kind drops them too (same document)', () => {
  const role = { cloud: 'aws', id: ROLE_ARN, roleArn: ROLE_ARN } as const;
  const irsa: Extract<Target, { kind: 'aws-role' }> = { ...role, kind: 'aws-role' };
  const trusted: Extract<Target, { kind: 'aws-role-principal' }> = { ...role, kind: 'aws-role-principal' };
  const current = { policy: policyOf(EC2, ours(ASTRO_A, DELETED)), quota: 2048 };
  const input = { grant: grantFor(NAMESPACE), issuer: ISSUER, pool: undefined, roles: undefined, dr: false };

  it('principal kind: a grant carries the note; a converged grant carries none', () => {
    const plan = awsPrincipalTrustKind.grant(current, {
      ...input,
      target: trusted,
      principal: ASTRO_B,
    });
    expect(plan.notes).toEqual([expect.stringContaining(`removed ${DELETED} from the ${PRINCIPALS_SID} statement`)]);
    const again = awsPrincipalTrustKind.grant(current, {
      ...input,
      target: trusted,
      principal: ASTRO_A,
    });
    expect(again).toMatchObject({ changed: false });
    expect(again.notes).toBeUndefined();
  });

  it('principal kind: revoking the deleted role itself needs no note (it is the removed entry)', () => {
    const plan = awsPrincipalTrustKind.revoke(current, DELETED);
    expect(plan).toMatchObject({ changed: true, removed: [DELETED] });
    expect(plan.notes).toBeUndefined();
  });

  it('IRSA kind: a grant on the same role drops it from our principal statement and says so', () => {
    const plan = awsRoleTrustKind.grant(current, { ...input, target: irsa, principal: undefined });
    expect(plan.changed).toBe(true);
    expect(statementsOf(plan.next.policy)).toContainEqual(ours(ASTRO_A));
    expect(plan.notes).toHaveLength(1);
  });

  it('withoutDeletedRoles returns the very document when there is nothing to drop', () => {
    const policy = policyOf(EC2, ours(ASTRO_A), persons(DELETED));
    expect(withoutDeletedRoles(policy)).toEqual({ policy, dropped: [] });
  });
});
