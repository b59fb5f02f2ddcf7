import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIdentitySyncError } from '../../shared/errors.ts';
import { isJsonObject, type JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import type { RoleTrust } from '../../shared/plan/aws/role-trust-kind.ts';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { gcpTokenCreatorKind, TOKEN_CREATOR } from '../../shared/plan/gcp/token-creator-kind.ts';
import { createAllowlist } from '../../shared/plan/guardrails.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { GrantInput, TargetKindName, TargetOf } from '../../shared/reconcile/target-kind.ts';
import { gcpPolicyArb, trustPolicyArb } from '../support/arbitraries.ts';

const RUNS = process.env.STRESS === '1' ? 2000 : 200;
const ROLE = 'arn:aws:iam::123456789012:role/shared-s3';
const AWS_PRINCIPALS = ['a', 'b', 'c'].map((s) => `arn:aws:iam::999999999999:role/astro-wi-${s}`);
const GCP_PRINCIPALS = ['a', 'b', 'c'].map((s) => `astro-wi-${s}@astro-prod.iam.gserviceaccount.com`);
const SA = 'etl@acme-data.iam.gserviceaccount.com';
const GRANT = desiredGrant({ namespace: 'op--a', selection: { components: ['scheduler'] } });

const opArb = fc.array(fc.record({ grant: fc.boolean(), who: fc.integer({ min: 0, max: 2 }) }), {
  minLength: 1,
  maxLength: 10,
});

function input<K extends TargetKindName>(target: TargetOf<K>, principal: string): GrantInput<K> {
  return { target, grant: GRANT, issuer: undefined, pool: undefined, principal, roles: undefined, dr: false };
}

/** A refused plan (does not fit) writes nothing: the document stays as it was. */
function apply<T>(current: T, plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (isIdentitySyncError(error)) return current;
    throw error;
  }
}

const statements = (policy: JsonObject) =>
  (Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]).filter(isJsonObject);
const ours = (s: JsonObject) => typeof s.Sid === 'string' && s.Sid.startsWith('AstroIdentitySyncPrincipals');

describe('preservation per identity kind: what the tool does not own is untouched', () => {
  it('AWS Principal.AWS trust: every other statement exactly, ours sorted and only allowlisted principals', () => {
    const target = { kind: 'aws-role-principal', cloud: 'aws', id: ROLE, roleArn: ROLE } as const;
    // A person already trusts one Astro identity in a statement of their own: it must stay theirs.
    const personArb = fc.option(
      fc
        .constantFrom(...AWS_PRINCIPALS)
        .map((p) => ({ Sid: 'Person', Effect: 'Allow', Principal: { AWS: p }, Action: 'sts:AssumeRole' })),
      { nil: undefined },
    );
    fc.assert(
      fc.property(trustPolicyArb, personArb, opArb, ({ policy }, person, ops) => {
        const original: JsonObject = {
          ...policy,
          Statement: [...statements(policy), ...(person === undefined ? [] : [person])],
        };
        let current: RoleTrust = { policy: structuredClone(original) as RoleTrust['policy'], quota: 8192 };
        for (const op of ops) {
          const who = AWS_PRINCIPALS[op.who] ?? '';
          current = op.grant
            ? apply(current, () => awsPrincipalTrustKind.grant(current, input(target, who)).next)
            : awsPrincipalTrustKind.revoke(current, who).next;
        }
        expect(statements(current.policy).filter((s) => !ours(s))).toEqual(
          statements(original).filter((s) => !ours(s)),
        );
        for (const key of Object.keys(original))
          if (key !== 'Statement') expect(current.policy[key]).toEqual(original[key]);
        const mine = statements(current.policy).filter(ours);
        expect(mine.length).toBeLessThanOrEqual(1);
        const listed = ((mine[0]?.Principal as { AWS?: string[] } | undefined)?.AWS ?? []) as string[];
        expect(listed).toEqual([...listed].sort());
        expect(listed.every((p) => AWS_PRINCIPALS.includes(p))).toBe(true);
        if (person !== undefined) expect(listed).not.toContain(person.Principal.AWS);
        // Converged: granting what is there again plans no change.
        for (const p of listed) expect(awsPrincipalTrustKind.grant(current, input(target, p)).changed).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('GCP impersonation: bindings, conditions, audit configs, etag and version exactly, but our members', () => {
    const kind = gcpTokenCreatorKind(createAllowlist(['astro-wi-*@astro-prod.iam.gserviceaccount.com']));
    const target = { kind: 'gcp-service-account-token-creator', cloud: 'gcp', id: SA, serviceAccount: SA } as const;
    const conditionalArb = fc.option(
      fc.constantFrom(...GCP_PRINCIPALS).map((p) => ({
        role: TOKEN_CREATOR,
        members: [`serviceAccount:${p}`],
        condition: { expression: 'request.time < timestamp("2030-01-01T00:00:00Z")' },
      })),
      { nil: undefined },
    );
    const strip = (policy: GcpPolicy) => ({
      ...policy,
      bindings: (policy.bindings ?? [])
        .map((b) =>
          b.condition === undefined && b.role === TOKEN_CREATOR
            ? { ...b, members: b.members.filter((m) => !GCP_PRINCIPALS.some((p) => m === `serviceAccount:${p}`)) }
            : b,
        )
        .filter((b) => b.members.length > 0),
    });
    fc.assert(
      fc.property(gcpPolicyArb, conditionalArb, opArb, (policy, conditional, ops) => {
        const original = {
          ...policy,
          ...(conditional === undefined
            ? {}
            : { bindings: [...((policy.bindings as GcpPolicy['bindings']) ?? []), conditional] }),
        } as GcpPolicy;
        let current: GcpPolicy = structuredClone(original);
        for (const op of ops) {
          const who = GCP_PRINCIPALS[op.who] ?? '';
          current = op.grant
            ? apply(current, () => kind.grant(current, input(target, who)).next)
            : kind.revoke(current, who).next;
        }
        expect(strip(current)).toEqual(strip(original));
        // Only unconditional token-creator members of allowlisted identities are ever ours.
        for (const owner of kind.owned(current)) expect(GCP_PRINCIPALS).toContain(owner);
        if (conditional !== undefined) expect(current.bindings).toContainEqual(conditional);
        for (const owner of kind.owned(current)) expect(kind.grant(current, input(target, owner)).changed).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });
});
