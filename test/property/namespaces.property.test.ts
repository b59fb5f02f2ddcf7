import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { planAzureCredentials } from '../../shared/plan/azure/credentials-planner.ts';
import { planGcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { assertNamespace } from '../../shared/plan/guardrails.ts';
import { type DesiredGrant, desiredGrant, parseSubject } from '../../shared/plan/subjects.ts';
import { COMPONENTS, hostileNamespaceArb } from '../support/arbitraries.ts';
import { grantFor, ISSUER, POOL, ROLE_ARN } from '../support/fixtures.ts';

const RUNS = { numRuns: 300 };

function validNamespace(namespace: string): boolean {
  try {
    assertNamespace(namespace);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return false;
  }
}

function planAll(grant: DesiredGrant) {
  return {
    aws: planAwsTrustPolicy({ policy: { Statement: [] }, roleArn: ROLE_ARN, issuer: ISSUER, grant, maxSize: 100_000 }),
    gcp: planGcpPolicy({ policy: {}, grant, pool: POOL }),
    azure: planAzureCredentials({ existing: [], issuer: ISSUER, grant }),
  };
}

describe('hostile namespaces', () => {
  it('are rejected, or produce only subjects and members inside that namespace', () => {
    fc.assert(
      fc.property(
        hostileNamespaceArb,
        fc.subarray(COMPONENTS, { minLength: 1 }),
        fc.constantFrom('DEDICATED', 'STANDARD', 'HYBRID', undefined),
        (namespace, components, clusterType) => {
          const wildcard = { requested: true, clusterType, strict: false } as const;
          if (!validNamespace(namespace)) {
            expect(() => desiredGrant({ namespace, selection: { components }, wildcard })).toThrow(ValidationError);
            // A grant forged around the validation is refused by every planner.
            const forged = { ...grantFor('valid-ns', { components }), namespace };
            expect(() => planAll(forged)).toThrow(ValidationError);
            return;
          }
          expect(namespace).toMatch(/^[a-z0-9-]{1,63}$/);
          const grant = desiredGrant({ namespace, selection: { components }, wildcard });
          expect(grant.wildcard).toBe(clusterType === 'DEDICATED');
          const { aws, gcp, azure } = planAll(grant);
          const subjects = [...grant.subjects, ...aws.added, ...azure.create.map((c) => c.subject)];
          for (const value of subjects) {
            const parts = parseSubject(value);
            expect(parts?.namespace).toBe(namespace);
            expect(parts?.serviceAccount === '*' ? grant.wildcard : true).toBe(true);
          }
          expect(subjects).not.toContain('system:serviceaccount:*:*');
          for (const member of gcp.added)
            expect(member.startsWith(`serviceAccount:${POOL}[${namespace}/${namespace}-`)).toBe(true);
          expect(gcp.added).toHaveLength(components.length);
        },
      ),
      RUNS,
    );
  });

  it('a subject built from a valid namespace always parses back to it', () => {
    fc.assert(
      fc.property(hostileNamespaceArb.filter(validNamespace), (namespace) => {
        for (const { subject, serviceAccount } of desiredGrant({ namespace, selection: {} }).components) {
          expect(parseSubject(subject)).toEqual({ namespace, serviceAccount });
        }
      }),
      RUNS,
    );
  });
});
