import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GcpBinding, GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { gcpProjectKind } from '../../shared/plan/gcp/project-kind.ts';
import { createAllowlist } from '../../shared/plan/guardrails.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';

// Project policies are large and shared: whatever else they hold, a grant and its revoke touch only this tool's
// member, in the unconditional bindings of the roles it manages.

const RUNS = { numRuns: process.env.STRESS ? 2000 : 300 };
const MANAGED = ['roles/bigquery.dataViewer', 'roles/logging.viewer', 'roles/storage.objectViewer'];
const OTHER_ROLES = ['roles/owner', 'roles/viewer', 'roles/pubsub.subscriber', 'projects/acme-analytics/roles/etl'];
const isAstro = createAllowlist(['astro-*@astro-prod-123.iam.gserviceaccount.com']);
const kind = gcpProjectKind(isAstro, MANAGED);

const astroArb = fc
  .constantFrom('a', 'b', 'c', 'd')
  .map((n) => `astro-dep-${n}@astro-prod-123.iam.gserviceaccount.com`);
const memberArb = fc.oneof(
  astroArb.map((email) => `serviceAccount:${email}`),
  fc.stringMatching(/^[a-z]{1,6}$/).map((u) => `user:${u}@example.com`),
  fc.constantFrom(
    'group:analysts@example.com',
    'domain:example.com',
    'serviceAccount:etl@acme-analytics.iam.gserviceaccount.com',
    'deleted:serviceAccount:astro-dep-a@astro-prod-123.iam.gserviceaccount.com?uid=123',
    'principalSet://iam.googleapis.com/locations/global/workforcePools/staff/group/data',
  ),
);
const conditionArb = fc.record(
  {
    title: fc.stringMatching(/^[a-z ]{1,10}$/),
    expression: fc.constantFrom('request.time < timestamp("2030-01-01T00:00:00Z")', 'resource.name.startsWith("x")'),
    description: fc.string({ maxLength: 12 }),
  },
  { requiredKeys: ['title', 'expression'] },
);
// Google never answers an empty binding; members of one binding are unique.
const bindingArb = fc
  .record({
    role: fc.constantFrom(...MANAGED, ...OTHER_ROLES),
    members: fc.uniqueArray(memberArb, { minLength: 1, maxLength: 6 }),
    condition: fc.option(conditionArb, { nil: undefined, freq: 3 }),
  })
  .map(
    ({ role, members, condition }): GcpBinding =>
      condition === undefined ? { role, members } : { role, members, condition },
  );
const auditConfigArb = fc.record(
  {
    service: fc.constantFrom('allServices', 'bigquery.googleapis.com', 'storage.googleapis.com'),
    auditLogConfigs: fc.array(
      fc.record(
        {
          logType: fc.constantFrom('ADMIN_READ', 'DATA_READ', 'DATA_WRITE'),
          exemptedMembers: fc.uniqueArray(memberArb, { maxLength: 3 }),
        },
        { requiredKeys: ['logType'] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);
const projectPolicyArb = fc.record(
  {
    version: fc.constantFrom(1, 3),
    etag: fc.base64String({ minLength: 4, maxLength: 16 }),
    bindings: fc.array(bindingArb, { maxLength: 10 }),
    auditConfigs: fc.array(auditConfigArb, { maxLength: 3 }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<GcpPolicy>;
const caseArb = fc.record({
  policy: projectPolicyArb,
  principal: astroArb,
  roles: fc.subarray(MANAGED, { minLength: 1 }),
});

const grantOf = desiredGrant({ namespace: 'dep-ns', selection: { components: ['scheduler'] } });
const target = (roles: readonly string[]) => ({
  kind: 'gcp-project' as const,
  cloud: 'gcp' as const,
  id: 'acme-analytics',
  project: 'acme-analytics',
  roles,
});
const grant = (policy: GcpPolicy, principal: string, roles: readonly string[]) =>
  kind.grant(policy, {
    target: target(roles),
    grant: grantOf,
    issuer: undefined,
    pool: undefined,
    principal,
    roles: undefined,
    dr: false,
  });

const ours = (binding: GcpBinding) => binding.condition === undefined && MANAGED.includes(binding.role);
/** The policy with one member taken out of the bindings this tool owns (emptied ones dropped); a missing list is []. */
function without(policy: GcpPolicy, member: string): GcpPolicy {
  const bindings = (policy.bindings ?? []).flatMap((b) => {
    if (!ours(b)) return [b];
    const members = b.members.filter((m) => m !== member);
    return members.length === 0 ? [] : [{ ...b, members }];
  });
  return { ...policy, bindings };
}
const normalized = (policy: GcpPolicy): GcpPolicy => ({ ...policy, bindings: policy.bindings ?? [] });

describe('gcp-project kind properties', () => {
  it('grant then revoke leaves exactly the policy without our member: conditions, auditConfigs, etag, others kept', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, principal, roles }) => {
        const snapshot = structuredClone(policy);
        const granted = grant(policy, principal, roles);
        const revoked = kind.revoke(granted.next, principal);
        expect(policy).toEqual(snapshot);
        expect(normalized(revoked.next)).toEqual(without(normalized(snapshot), `serviceAccount:${principal}`));
        // Not owned stays in place and in order: every binding that is not ours, and every field besides bindings.
        const notOurs = (p: GcpPolicy) => (p.bindings ?? []).filter((b) => !ours(b));
        expect(notOurs(revoked.next)).toEqual(notOurs(snapshot));
        const { bindings: _r, ...restRevoked } = revoked.next;
        const { bindings: _s, ...restSnapshot } = snapshot;
        expect(restRevoked).toEqual(restSnapshot);
      }),
      RUNS,
    );
  });

  it('a member that was not there before comes and goes without a trace', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, principal, roles }) => {
        const member = `serviceAccount:${principal}`;
        const clean = without(policy, member);
        const revoked = kind.revoke(grant(clean, principal, roles).next, principal);
        expect(JSON.stringify(revoked.next)).toBe(JSON.stringify(clean));
      }),
      RUNS,
    );
  });

  it('grant adds our member, once, to an unconditional binding of each role, and nothing else', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, principal, roles }) => {
        const member = `serviceAccount:${principal}`;
        const plan = grant(policy, principal, roles);
        expect([...plan.added, ...plan.present].sort()).toEqual(roles.map((r) => `${r} ${member}`).sort());
        for (const role of roles) {
          const binding = (plan.next.bindings ?? []).find((b) => b.role === role && b.condition === undefined);
          expect(binding?.members.filter((m) => m === member)).toHaveLength(1);
        }
        const all = (p: GcpPolicy) => (p.bindings ?? []).flatMap((b) => b.members);
        const grown = all(plan.next).length - all(policy).length;
        expect(grown).toBe(plan.added.length);
        expect(
          all(plan.next)
            .filter((m) => m !== member)
            .sort(),
        ).toEqual(
          all(policy)
            .filter((m) => m !== member)
            .sort(),
        );
      }),
      RUNS,
    );
  });

  it('is idempotent: a second grant changes nothing and hands back the same document', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, principal, roles }) => {
        const once = grant(policy, principal, roles);
        const twice = grant(once.next, principal, roles);
        expect(twice.changed).toBe(false);
        expect(twice.added).toEqual([]);
        expect(twice.next).toBe(once.next);
      }),
      RUNS,
    );
  });

  it('owns what it granted; after the revoke it owns what it owned before, less that principal', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, principal, roles }) => {
        const before = kind.owned(policy);
        const granted = grant(policy, principal, roles).next;
        expect(kind.owned(granted).has(principal)).toBe(true);
        const after = kind.owned(kind.revoke(granted, principal).next);
        expect([...after].sort()).toEqual([...before].filter((p) => p !== principal).sort());
      }),
      RUNS,
    );
  });

  it('never takes anything back for a principal that is not an Astro identity', () => {
    fc.assert(
      fc.property(projectPolicyArb, (policy) => {
        const plan = kind.revoke(policy, 'etl@acme-analytics.iam.gserviceaccount.com');
        expect(plan.changed).toBe(false);
        expect(plan.next).toBe(policy);
      }),
      RUNS,
    );
  });
});
