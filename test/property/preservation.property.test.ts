import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isIdentitySyncError } from '../../shared/errors.ts';
import { revokeAwsNamespace } from '../../shared/plan/aws/ownership.ts';
import { isJsonObject, type JsonObject } from '../../shared/plan/aws/policy-document.ts';
import { MANAGED_SID_PREFIX, planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { normalizeCredentials, planAzureCredentials } from '../../shared/plan/azure/credentials-planner.ts';
import { revokeAzureNamespace } from '../../shared/plan/azure/ownership.ts';
import { revokeGcpNamespace } from '../../shared/plan/gcp/ownership.ts';
import { planGcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import { azureCredentialsArb, gcpPolicyArb, trustPolicyArb } from '../support/arbitraries.ts';

const RUNS = process.env.STRESS === '1' ? 2000 : 200;
const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE';
const POOL = 'astro-gke-prod.svc.id.goog';
// Namespaces of the operations; `op--` keeps them apart from the arbitraries' pre-existing namespaces.
const opArb = fc.array(
  fc.record({
    kind: fc.constantFrom('created', 'updated', 'deleted'),
    namespace: fc.constantFrom('op--a', 'op--b', 'op--c'),
    airflow: fc.constantFrom('2.10.3', '3.0.2'),
    remote: fc.boolean(),
  }),
  { minLength: 1, maxLength: 12 },
);
const grantOf = (op: { namespace: string; airflow: string; remote: boolean }) =>
  desiredGrant({ namespace: op.namespace, selection: { airflowVersion: op.airflow, remoteExecution: op.remote } });

/** Runs a plan, keeping the document when the plan is refused (does not fit, conflict): nothing is written then. */
function apply<T>(current: T, plan: () => T): T {
  try {
    return plan();
  } catch (error) {
    if (isIdentitySyncError(error)) return current;
    throw error;
  }
}

const statementsOf = (policy: JsonObject) => {
  const statement = policy.Statement;
  return (Array.isArray(statement) ? statement : [statement]).filter(isJsonObject);
};
const isManaged = (s: JsonObject) => typeof s.Sid === 'string' && s.Sid.startsWith(MANAGED_SID_PREFIX);
const withoutKey = (o: JsonObject, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

describe('preservation: after any sequence of creates, updates and deletes, what the tool does not own is untouched', () => {
  it('AWS trust policies', () => {
    fc.assert(
      fc.property(trustPolicyArb, opArb, ({ policy }, ops) => {
        let current: JsonObject = policy;
        for (const op of ops) {
          current =
            op.kind === 'deleted'
              ? revokeAwsNamespace(current, op.namespace).next
              : apply(
                  current,
                  () =>
                    planAwsTrustPolicy({
                      policy: current,
                      roleArn: ROLE,
                      issuer: ISSUER,
                      grant: grantOf(op),
                      maxSize: 65536,
                    }).policy,
                );
        }
        expect(JSON.stringify(statementsOf(current).filter((s) => !isManaged(s)))).toBe(
          JSON.stringify(statementsOf(policy).filter((s) => !isManaged(s))),
        );
        expect(JSON.stringify(withoutKey(current, 'Statement'))).toBe(JSON.stringify(withoutKey(policy, 'Statement')));
      }),
      { numRuns: RUNS },
    );
  });

  it('GCP IAM policies', () => {
    fc.assert(
      fc.property(gcpPolicyArb, opArb, (policy, ops) => {
        let current: JsonObject = policy;
        for (const op of ops) {
          current =
            op.kind === 'deleted'
              ? revokeGcpNamespace(current, op.namespace).next
              : apply(current, () => planGcpPolicy({ policy: current, grant: grantOf(op), pool: POOL }).policy);
        }
        type Binding = { role: string; members: string[]; condition?: unknown };
        // What a person owns: every binding with its members minus ours (`op--`), in order. Google drops bindings
        // without members, so an empty binding and no binding are the same policy and both are left out (the stress
        // run found a pre-existing empty binding that we filled and emptied again being removed, which is harmless).
        const theirs = (p: JsonObject) =>
          ((p.bindings as Binding[] | undefined) ?? [])
            .map((b) => ({ ...b, members: b.members.filter((m) => !m.includes('[op--')) }))
            .filter((b) => b.members.length > 0);
        expect(JSON.stringify(theirs(current))).toBe(JSON.stringify(theirs(policy)));
        expect(current.bindings === undefined || Array.isArray(current.bindings)).toBe(true);
        expect(JSON.stringify(withoutKey(current, 'bindings'))).toBe(JSON.stringify(withoutKey(policy, 'bindings')));
      }),
      { numRuns: RUNS },
    );
  });

  it('Azure federated credentials', () => {
    fc.assert(
      fc.property(azureCredentialsArb, opArb, ({ credentials }, ops) => {
        const original = normalizeCredentials(credentials);
        let current = original;
        for (const op of ops) {
          if (op.kind === 'deleted') {
            current = revokeAzureNamespace(current, op.namespace).next;
            continue;
          }
          const before = current;
          current = apply(current, () => [
            ...current,
            ...planAzureCredentials({ existing: current, issuer: `${ISSUER}/`, grant: grantOf(op) }).create,
          ]);
          // All or nothing: either every credential this Deployment needs is there now, or nothing was added.
          const wanted = grantOf(op).components.map((c) => `${op.namespace}-${c.component}`);
          const names = new Set(current.map((c) => c.name));
          expect(current === before || wanted.every((name) => names.has(name))).toBe(true);
        }
        for (const credential of original) expect(current).toContainEqual(credential);
        expect(current.length).toBeLessThanOrEqual(20);
      }),
      { numRuns: RUNS },
    );
  });
});
