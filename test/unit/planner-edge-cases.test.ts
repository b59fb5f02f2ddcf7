import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { NameConflictError } from '../../shared/errors.ts';
import { deploymentEventSchema, deploymentSchema } from '../../shared/intake/deployment.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { planAzureCredentials } from '../../shared/plan/azure/credentials-planner.ts';
import { planGcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { isRoleArn } from '../../shared/plan/guardrails.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import { processBatch } from '../../shared/reconcile/process-batch.ts';
import { apiDeployment } from '../support/deployments.ts';
import { memoryTargets } from '../support/memory-targets.ts';

const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC';
const HOST = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
const grant = desiredGrant({ namespace: 'ns-a', selection: { components: ['scheduler'] } });

describe('cases found in review', () => {
  it('does not adopt a managed statement a person edited, so it never rewrites the policy on every event', () => {
    const edited = {
      Sid: 'AstroIdentitySyncAAAA0000',
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${HOST}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          [`${HOST}:aud`]: 'sts.amazonaws.com',
          [`${HOST}:sub`]: ['system:serviceaccount:ns-a:ns-a-scheduler-serviceaccount'],
        },
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
      },
    };
    const first = planAwsTrustPolicy({
      policy: { Version: '2012-10-17', Statement: [edited] },
      roleArn: ROLE,
      issuer: ISSUER,
      grant,
    });
    expect(first.changed).toBe(true);
    const statements = first.policy.Statement as Array<Record<string, unknown>>;
    expect(statements[0]).toEqual(edited);
    expect(statements).toHaveLength(2);
    const second = planAwsTrustPolicy({ policy: first.policy, roleArn: ROLE, issuer: ISSUER, grant });
    expect(second.changed).toBe(false);
  });

  it('recognises a principal:// member as granting when the project number is known, in either format', () => {
    const principal =
      'principal://iam.googleapis.com/projects/123456789/locations/global/workloadIdentityPools/astro-gke.svc.id.goog/subject/ns/ns-a/sa/ns-a-scheduler-serviceaccount';
    const policy = { bindings: [{ role: 'roles/iam.workloadIdentityUser', members: [principal] }] };
    const known = planGcpPolicy({
      policy,
      grant,
      pool: 'astro-gke.svc.id.goog',
      memberFormat: { kind: 'service-account', projectNumber: '123456789' },
    });
    expect(known.changed).toBe(false);
    const unknown = planGcpPolicy({ policy, grant, pool: 'astro-gke.svc.id.goog' });
    expect(unknown.added).toEqual(['serviceAccount:astro-gke.svc.id.goog[ns-a/ns-a-scheduler-serviceaccount]']);
  });

  it('reports an Azure credential with the right subject but the wrong audience instead of calling it present', () => {
    const existing = [{ name: 'old', issuer: ISSUER, subject: grant.subjects[0], audiences: ['api://Other'] }];
    expect(() => planAzureCredentials({ existing, issuer: ISSUER, grant })).toThrow(NameConflictError);
    expect(() => planAzureCredentials({ existing, issuer: ISSUER, grant })).toThrow(
      /audience api:\/\/AzureADTokenExchange/,
    );
  });

  it('reads "deployment": null in an event as absent, and refuses role ARNs with wildcard paths', () => {
    const event = {
      type: 'deployment.created',
      timestamp: '2026-11-20T10:00:05Z',
      data: { organizationId: 'o', deploymentId: 'd', deployment: null },
    };
    expect(deploymentEventSchema.parse(event).data.deployment).toBeUndefined();
    expect(isRoleArn('arn:aws:iam::123456789012:role/team/*/astro')).toBe(false);
    expect(isRoleArn('arn:aws:iam::123456789012:role/team/astro')).toBe(true);
  });

  it('grants the union of components when a role comes from both the Deployment and a rule', async () => {
    const config = parseConfig(`aws: { allowedRoles: ["arn:aws:iam::123456789012:role/*"] }
targets:
  - match: { all: true }
    aws: { roleArn: "${ROLE}" }
    components: [apiserver]`);
    let granted: readonly string[] = [];
    const { targets } = memoryTargets({
      onGrant: (grant) => {
        granted = grant.subjects;
      },
    });
    const deployment = deploymentSchema.parse(
      apiDeployment({ airflowVersion: '2.10.3', effectiveWorkloadIdentity: ROLE }),
    );
    await processBatch([{ eventId: 'e', type: 'deployment.created', deployment }], {
      config,
      targets,
    });
    expect(granted.map((s) => s.split(':').at(-1))).toEqual([
      'nebular-gravity-1234-apiserver-serviceaccount',
      'nebular-gravity-1234-dag-processor-serviceaccount',
      'nebular-gravity-1234-kpo',
      'nebular-gravity-1234-scheduler-serviceaccount',
      'nebular-gravity-1234-triggerer-serviceaccount',
      'nebular-gravity-1234-webserver-serviceaccount',
      'nebular-gravity-1234-worker-serviceaccount',
    ]);
  });
});
