import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoesNotFitError, NameConflictError } from '../../shared/errors.ts';
import {
  AZURE_AUDIENCE,
  type FederatedCredential,
  normalizeCredentials,
  planAzureCredentials,
} from '../../shared/plan/azure/credentials-planner.ts';
import {
  type GcpMemberFormat,
  type GcpPolicy,
  planGcpPolicy,
  WORKLOAD_IDENTITY_USER,
} from '../../shared/plan/gcp/policy-planner.ts';
import { parseSubject } from '../../shared/plan/subjects.ts';
import { azureCredentialsArb, gcpPolicyArb, grantArb } from '../support/arbitraries.ts';
import { POOL, PROJECT_NUMBER } from '../support/fixtures.ts';

const RUNS = { numRuns: 200 };
const formatArb = fc.constantFrom<GcpMemberFormat>(
  { kind: 'service-account' },
  { kind: 'principal', projectNumber: PROJECT_NUMBER },
);
const MEMBER =
  /^(?:serviceAccount:([^[]+)\[([^/]+)\/([^\]]+)\]|principal:\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/([^/]+)\/subject\/ns\/([^/]+)\/sa\/([^/]+))$/;

describe('planGcpPolicy properties', () => {
  it('preserves every binding and field; only the unconditional WIU binding grows', () => {
    fc.assert(
      fc.property(gcpPolicyArb, grantArb, formatArb, (policy, grant, memberFormat) => {
        const snapshot = structuredClone(policy);
        const result = planGcpPolicy({ policy, grant, pool: POOL, memberFormat });
        expect(policy).toEqual(snapshot);
        const before = (snapshot as GcpPolicy).bindings ?? [];
        const after = result.policy.bindings ?? [];
        const { bindings: _b, ...restBefore } = snapshot as GcpPolicy;
        const { bindings: _a, ...restAfter } = result.policy;
        expect(restAfter).toEqual(restBefore);
        if (!result.changed) {
          expect(result.policy).toEqual(snapshot);
          return;
        }
        const index = before.findIndex((b) => b.role === WORKLOAD_IDENTITY_USER && b.condition === undefined);
        before.forEach((binding, i) => {
          expect(after[i]).toEqual(
            i === index ? { ...binding, members: [...binding.members, ...result.added] } : binding,
          );
        });
        expect(after.slice(before.length)).toEqual(
          index === -1 ? [{ role: WORKLOAD_IDENTITY_USER, members: [...result.added] }] : [],
        );
      }),
      RUNS,
    );
  });

  it('reports as present only members of the unconditional binding, and all of them after a plan', () => {
    fc.assert(
      fc.property(gcpPolicyArb, grantArb, formatArb, (policy, grant, memberFormat) => {
        const once = planGcpPolicy({ policy, grant, pool: POOL, memberFormat });
        const binding = ((policy as GcpPolicy).bindings ?? []).find(
          (b) => b.role === WORKLOAD_IDENTITY_USER && b.condition === undefined,
        );
        for (const member of once.present) expect(binding?.members).toContain(member);
        expect(once.present).toEqual([...once.present].sort());
        expect(once.present.filter((member) => once.added.includes(member))).toEqual([]);
        const twice = planGcpPolicy({ policy: once.policy, grant, pool: POOL, memberFormat });
        expect(twice.present).toEqual([...new Set([...once.present, ...once.added])].sort());
      }),
      RUNS,
    );
  });

  it('applying twice equals applying once', () => {
    fc.assert(
      fc.property(gcpPolicyArb, grantArb, formatArb, (policy, grant, memberFormat) => {
        const once = planGcpPolicy({ policy, grant, pool: POOL, memberFormat });
        const twice = planGcpPolicy({ policy: once.policy, grant, pool: POOL, memberFormat });
        expect(twice.changed).toBe(false);
        expect(twice.added).toEqual([]);
        expect(JSON.stringify(twice.policy)).toBe(JSON.stringify(once.policy));
      }),
      RUNS,
    );
  });

  it("only adds members for the Deployment's own service accounts", () => {
    fc.assert(
      fc.property(gcpPolicyArb, grantArb, formatArb, (policy, grant, memberFormat) => {
        const result = planGcpPolicy({ policy, grant, pool: POOL, memberFormat });
        const accounts = grant.components.map((c) => c.serviceAccount);
        for (const member of result.added) {
          const match = MEMBER.exec(member);
          expect(match).not.toBeNull();
          const [, pool1, ns1, sa1, pool2, ns2, sa2] = match ?? [];
          expect(pool1 ?? pool2).toBe(POOL);
          expect(ns1 ?? ns2).toBe(grant.namespace);
          expect(accounts).toContain(sa1 ?? sa2);
        }
        expect(result.added.length).toBeLessThanOrEqual(grant.components.length);
      }),
      RUNS,
    );
  });
});

const ISSUERS = ['https://issuer.example.com/', 'https://issuer.example.com'];
/**
 * Random unrelated credentials, plus some of the grant's own ones already present under other names, plus sometimes
 * a credential squatting on the name (in any case) one of the grant's credentials would get.
 */
const azureCaseArb = fc
  .record({
    input: azureCredentialsArb,
    grant: grantArb,
    issuer: fc.constantFrom(...ISSUERS),
    present: fc.nat(7),
    squat: fc.option(fc.record({ index: fc.nat(6), upper: fc.boolean() }), { nil: undefined, freq: 4 }),
  })
  .map(({ input, grant, issuer, present, squat }) => {
    const own = grant.components.slice(0, present).map((c, i) => ({
      name: `legacy-${i}`,
      issuer,
      subject: c.subject,
      audiences: [AZURE_AUDIENCE],
    }));
    const target = squat === undefined ? undefined : grant.components[squat.index % grant.components.length];
    const name = target && `${grant.namespace}-${target.component}`;
    const squatter = name && { name: squat?.upper ? name.toUpperCase() : name, issuer, subject: 'repo:org/x:ref:main' };
    const list = [...input.credentials, ...own, ...(squatter ? [squatter] : [])];
    return { existing: input.page ? { value: list } : list, grant, issuer };
  });

describe('planAzureCredentials properties', () => {
  it('keeps existing credentials, creates only in-namespace ones, all or nothing', () => {
    fc.assert(
      fc.property(azureCaseArb, ({ existing, grant, issuer }) => {
        const snapshot = structuredClone(existing);
        const current = normalizeCredentials(existing);
        let plan: ReturnType<typeof planAzureCredentials>;
        try {
          plan = planAzureCredentials({ existing, grant, issuer });
        } catch (error) {
          if (error instanceof DoesNotFitError) {
            expect(error.size).toBeGreaterThan(20);
            expect(error.limit).toBe(20);
            return;
          }
          expect(error).toBeInstanceOf(NameConflictError);
          const names = new Set(current.map((c) => c.name.toLowerCase()));
          for (const name of (error as NameConflictError).names) expect(names.has(name.toLowerCase())).toBe(true);
          return;
        }
        expect(existing).toEqual(snapshot);
        expect(plan.create.length + plan.present.length).toBe(grant.components.length);
        const taken = new Set(current.map((c) => c.name.toLowerCase()));
        for (const credential of plan.create) {
          expect(taken.has(credential.name.toLowerCase())).toBe(false);
          expect(credential.issuer).toBe(issuer);
          expect(credential.audiences).toEqual([AZURE_AUDIENCE]);
          const parts = parseSubject(credential.subject);
          expect(parts?.namespace).toBe(grant.namespace);
          expect(parts?.serviceAccount).not.toContain('*');
          expect(current.some((c) => c.issuer === issuer && c.subject === credential.subject)).toBe(false);
        }
        for (const credential of plan.present) expect(current).toContainEqual(credential);
        expect(plan.presentSubjects).toEqual(plan.present.map((c) => c.subject).sort());
        expect([...plan.added, ...plan.presentSubjects].sort()).toEqual(grant.components.map((c) => c.subject).sort());
        if (plan.create.length > 0) expect(current.length + plan.create.length).toBeLessThanOrEqual(20);
      }),
      RUNS,
    );
  });

  it('applying twice equals applying once', () => {
    fc.assert(
      fc.property(azureCaseArb, ({ existing, grant, issuer }) => {
        let once: ReturnType<typeof planAzureCredentials>;
        try {
          once = planAzureCredentials({ existing, grant, issuer, maxCredentials: 40 });
        } catch (error) {
          expect(error).toBeInstanceOf(NameConflictError);
          return;
        }
        const applied: FederatedCredential[] = [...normalizeCredentials(existing), ...once.create];
        const twice = planAzureCredentials({ existing: applied, grant, issuer, maxCredentials: 40 });
        expect(twice).toMatchObject({ changed: false, added: [], create: [] });
        expect(twice.present).toHaveLength(grant.components.length);
      }),
      RUNS,
    );
  });
});
