import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import type { DesiredGrant } from '../../shared/plan/subjects.ts';
import { denyScenarioArb, editManaged, OTHER_HOST_PATH, OTHER_PROVIDER } from '../support/aws-deny-arbitraries.ts';
import { ISSUER, ISSUER_HOST_PATH, PROVIDER_ARN, ROLE_ARN } from '../support/fixtures.ts';
import { decide, type ProbeRequest } from '../support/iam-reference.ts';

/**
 * Judged by a reference IAM evaluator written apart from the planner: every subject a plan reports as granted
 * (present or added) is allowed by the resulting policy, and no request IAM refused before is allowed after, except the
 * grant's own requests for the subjects the plan added. Policies carry Deny statements and hand-edited managed
 * statements; both worlds of the keys the evaluator cannot know are checked.
 */

const RUNS = { numRuns: 300 };
const WEB_IDENTITY = 'sts:AssumeRoleWithWebIdentity';
const plan = (policy: unknown, grant: DesiredGrant) =>
  planAwsTrustPolicy({ policy, roleArn: ROLE_ARN, issuer: ISSUER, grant, maxSize: 1_000_000 });

/** The concrete service accounts one grant entry stands for (a namespace pattern: a sample of its namespace). */
function concrete(entry: string, grant: DesiredGrant): string[] {
  if (!entry.endsWith(':*')) return [entry];
  const prefix = entry.slice(0, -1);
  return [...grant.components.map((c) => c.subject), `${prefix}${grant.namespace}-worker-serviceaccount`, `${prefix}x`];
}

const canonical = (sub: string): ProbeRequest => ({
  provider: PROVIDER_ARN,
  hostPath: ISSUER_HOST_PATH,
  action: WEB_IDENTITY,
  sub,
  aud: 'sts.amazonaws.com',
});

/** Requests the grant must never open up: other subjects, audiences, issuers and actions. */
function probes(grant: DesiredGrant): ProbeRequest[] {
  const subs = [
    ...grant.subjects.flatMap((s) => concrete(s, grant)),
    'system:serviceaccount:other-ns:other-ns-worker-serviceaccount',
    `system:serviceaccount:${grant.namespace}x:${grant.namespace}x-kpo`,
  ];
  return subs.flatMap((sub) => [
    canonical(sub),
    { ...canonical(sub), aud: 'other-audience' },
    { ...canonical(sub), provider: OTHER_PROVIDER, hostPath: OTHER_HOST_PATH },
    { ...canonical(sub), action: 'sts:TagSession' },
    { ...canonical(sub), action: 'sts:AssumeRole' },
  ]);
}

const scenarioPolicy = denyScenarioArb.map(({ grant, denies, earlier, edit }) => {
  const base = earlier.reduce<JsonObject>((current, g) => plan(current, g).policy, { Statement: [] });
  const statements = editManaged(base.Statement as JsonObject[], edit);
  return { grant, policy: { Version: '2012-10-17', Statement: [...denies, ...statements] } };
});

let blockedRuns = 0;
let editedRuns = 0;

describe('trust-policy plans judged by a reference IAM evaluator', () => {
  it('every subject reported granted is allowed; blocked ones are neither written nor reported granted', () => {
    fc.assert(
      fc.property(scenarioPolicy, ({ grant, policy }) => {
        const result = plan(policy, grant);
        if (result.blocked.length > 0) blockedRuns++;
        if (result.edited.length > 0) editedRuns++;
        for (const world of [true, false]) {
          for (const entry of [...result.present, ...result.added]) {
            for (const sub of concrete(entry, grant))
              expect(decide(result.policy, canonical(sub), world)).toBe('allow');
          }
          for (const { subject } of result.blocked) {
            for (const sub of concrete(subject, grant)) {
              expect(decide(result.policy, canonical(sub), world)).toBe(decide(policy, canonical(sub), world));
            }
          }
        }
        const reported = [...result.present, ...result.added, ...result.blocked.map((b) => b.subject)];
        expect(reported.sort()).toEqual([...grant.subjects].sort());
      }),
      RUNS,
    );
    expect(blockedRuns).toBeGreaterThan(RUNS.numRuns / 10);
    expect(editedRuns).toBeGreaterThan(RUNS.numRuns / 10);
  });

  it('no request refused before is allowed after, except the added subjects of the grant itself', () => {
    fc.assert(
      fc.property(scenarioPolicy, ({ grant, policy }) => {
        const result = plan(policy, grant);
        const intended = new Set(result.added.flatMap((entry) => concrete(entry, grant)));
        for (const world of [true, false]) {
          for (const request of probes(grant)) {
            if (decide(policy, request, world) === 'allow') continue;
            const isGrant =
              intended.has(request.sub) &&
              JSON.stringify(request) === JSON.stringify(canonical(request.sub)) &&
              decide(result.policy, request, world) === 'allow';
            if (!isGrant) expect(decide(result.policy, request, world), JSON.stringify(request)).not.toBe('allow');
          }
        }
      }),
      RUNS,
    );
  });

  it('a second plan writes nothing and reports the same findings (no write storm)', () => {
    fc.assert(
      fc.property(scenarioPolicy, ({ grant, policy }) => {
        const once = plan(policy, grant);
        const twice = plan(once.policy, grant);
        expect(twice.changed).toBe(false);
        expect(twice.blocked).toEqual(once.blocked);
        expect(twice.edited).toEqual(once.edited);
      }),
      RUNS,
    );
  });
});
