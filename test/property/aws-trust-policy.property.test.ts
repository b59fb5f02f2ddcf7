import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJsonObject, type JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { MANAGED_SID_PREFIX, planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { type DesiredGrant, parseSubject } from '../../shared/plan/subjects.ts';
import { grantArb, trustPolicyArb } from '../support/arbitraries.ts';
import { ISSUER, ISSUER_HOST_PATH, PROVIDER_ARN, ROLE_ARN } from '../support/fixtures.ts';

const RUNS = { numRuns: 200 };
const plan = (policy: unknown, grant: DesiredGrant) =>
  planAwsTrustPolicy({ policy, roleArn: ROLE_ARN, issuer: ISSUER, grant, maxSize: 1_000_000 });

function statementsOf(policy: unknown): JsonObject[] {
  if (!isJsonObject(policy)) throw new Error('not a policy');
  const { Statement } = policy;
  return (Array.isArray(Statement) ? Statement : [Statement]).filter(isJsonObject);
}

/** Every value of every `...:sub` condition key, per statement. */
function subValues(statement: JsonObject): string[] {
  const condition = statement.Condition;
  if (!isJsonObject(condition)) return [];
  return Object.values(condition).flatMap((block) =>
    isJsonObject(block)
      ? Object.entries(block)
          .filter(([key]) => key.toLowerCase().endsWith(':sub'))
          .flatMap(([, value]) => (Array.isArray(value) ? value : [value]).map(String))
      : [],
  );
}

/** The statement with its sub lists removed, to compare everything else. */
function withoutSubs(statement: JsonObject): unknown {
  const condition = statement.Condition;
  if (!isJsonObject(condition)) return statement;
  const stripped = Object.fromEntries(
    Object.entries(condition).map(([op, block]) => [
      op,
      isJsonObject(block)
        ? Object.fromEntries(Object.entries(block).filter(([k]) => !k.toLowerCase().endsWith(':sub')))
        : block,
    ]),
  );
  return { ...statement, Condition: stripped };
}

const isManaged = (s: JsonObject | undefined) => typeof s?.Sid === 'string' && s.Sid.startsWith(MANAGED_SID_PREFIX);

/** A random policy, possibly already holding managed statements for other Deployments. */
const existingArb = trustPolicyArb.map(({ policy, earlier }) =>
  earlier.reduce<unknown>((current, grant) => plan(current, grant).policy, policy),
);

describe('planAwsTrustPolicy properties', () => {
  it('preserves every pre-existing statement; only one managed statement may grow', () => {
    fc.assert(
      fc.property(existingArb, grantArb, (existing, grant) => {
        const snapshot = structuredClone(existing);
        const result = plan(existing, grant);
        expect(existing).toEqual(snapshot);
        const before = statementsOf(snapshot);
        const after = statementsOf(result.policy);
        if (!result.changed) {
          expect(result.policy).toEqual(snapshot);
          return;
        }
        expect(after.length - before.length).toBeGreaterThanOrEqual(0);
        expect(after.length - before.length).toBeLessThanOrEqual(1);
        const modified = before.flatMap((statement, i) => {
          const next = after[i];
          if (JSON.stringify(next) === JSON.stringify(statement)) return [];
          expect(isManaged(statement)).toBe(true);
          expect(next && withoutSubs(next)).toEqual(withoutSubs(statement));
          expect(next && subValues(next)).toEqual(expect.arrayContaining(subValues(statement)));
          return [i];
        });
        const appended = after.slice(before.length);
        expect(modified.length + appended.length).toBe(1);
        for (const statement of appended) expect(isManaged(statement)).toBe(true);
        const { Statement: _before, ...restBefore } = snapshot as JsonObject;
        const { Statement: _after, ...restAfter } = result.policy;
        expect(restAfter).toEqual(restBefore);
      }),
      RUNS,
    );
  });

  it('splits the grant into added and present, and a second plan finds all of it present', () => {
    fc.assert(
      fc.property(existingArb, grantArb, (existing, grant) => {
        const once = plan(existing, grant);
        const blocked = once.blocked.map((b) => b.subject);
        expect([...once.added, ...once.present, ...blocked].sort()).toEqual([...grant.subjects].sort());
        expect(once.present.filter((subject) => once.added.includes(subject))).toEqual([]);
        expect(once.present).toEqual([...once.present].sort());
        const again = plan(once.policy, grant);
        expect(again.present).toEqual(grant.subjects.filter((s) => !blocked.includes(s)).sort());
        expect(again.blocked).toEqual(once.blocked);
      }),
      RUNS,
    );
  });

  it('applying twice equals applying once', () => {
    fc.assert(
      fc.property(existingArb, grantArb, (existing, grant) => {
        const once = plan(existing, grant);
        const twice = plan(once.policy, grant);
        expect(twice.changed).toBe(false);
        expect(twice.added).toEqual([]);
        expect(JSON.stringify(twice.policy)).toBe(JSON.stringify(once.policy));
        expect(once.size).toBe(JSON.stringify(once.policy).length);
      }),
      RUNS,
    );
  });

  it('counts no Deny, foreign-provider or unrelated statement as a grant; a Deny on every subject blocks them all', () => {
    fc.assert(
      fc.property(trustPolicyArb, grantArb, ({ policy }, grant) => {
        const ours = (s: JsonObject) => isJsonObject(s.Principal) && s.Principal.Federated === PROVIDER_ARN;
        const denyAll: JsonObject = {
          Effect: 'Deny',
          Principal: { Federated: PROVIDER_ARN },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { [`${ISSUER_HOST_PATH}:sub`]: 'system:serviceaccount:*:*' } },
        };
        const foreign = { ...denyAll, Effect: 'Allow', Principal: { Federated: `${PROVIDER_ARN}X` } };
        const others = [...statementsOf(policy).filter((s) => !ours(s)), denyAll, foreign];
        const result = plan({ ...policy, Statement: others }, grant);
        expect(result.added).toEqual([]);
        expect(result.present).toEqual([]);
        expect(result.blocked.map((b) => b.subject)).toEqual(grant.subjects);
        const unblocked = plan({ ...policy, Statement: others.filter((s) => s !== denyAll) }, grant);
        expect(unblocked.added).toEqual(grant.subjects);
        expect(statementsOf(unblocked.policy).slice(0, others.length - 1)).toEqual(others.filter((s) => s !== denyAll));
      }),
      RUNS,
    );
  });

  it("never adds a subject outside the Deployment's namespace", () => {
    fc.assert(
      fc.property(existingArb, grantArb, (existing, grant) => {
        const result = plan(existing, grant);
        const old = new Set(statementsOf(existing).flatMap(subValues));
        const fresh = statementsOf(result.policy)
          .flatMap(subValues)
          .filter((value) => !old.has(value));
        for (const value of [...fresh, ...result.added]) {
          const parts = parseSubject(value);
          expect(parts?.namespace).toBe(grant.namespace);
          if (parts?.serviceAccount === '*') expect(grant.wildcard).toBe(true);
          expect(grant.subjects).toContain(value);
        }
        for (const value of fresh) expect(result.added).toContain(value);
      }),
      RUNS,
    );
  });
});
