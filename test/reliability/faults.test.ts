import { afterAll, describe, expect, it } from 'vitest';
import { startAwsStack } from '../../local/aws-stack.ts';
import {
  identityResourceId,
  LOCAL_AKS_ISSUER,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
  startAzureStack,
} from '../../local/azure-stack.ts';
import { LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS, postSigned } from '../support/deployments.ts';
import { inWaves, scaled } from './scale.ts';

// 500 events in all at full size (200 AWS, 165 GCP, 135 Azure); a fifth of that in `npm test`.
const AWS_EVENTS = scaled(200, 40);
const GCP_EVENTS = scaled(165, 35);
const AZURE_IDENTITIES = scaled(15, 3);
const PER_IDENTITY = 9; // 1 credential a person made + 9 Deployments x 2 = 19 of 20
const SUB = `${ISSUER_AWS.replace('https://', '')}:sub`;
const ns = (cloud: string, i: number) => `${cloud}-fault-${String(i).padStart(4, '0')}`;
const id = (cloud: string, i: number) => `clq2${cloud}${String(i).padStart(21 - cloud.length, '0')}`;
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});

describe(`faults: ${AWS_EVENTS + GCP_EVENTS + AZURE_IDENTITIES * PER_IDENTITY} events across three clouds all converge`, () => {
  it(`AWS: ${AWS_EVENTS} events with throttling, 5xx and a concurrent writer on 20% of writes`, {
    timeout: 300_000,
  }, async () => {
    const stack = await startAwsStack({
      config: `webhook: { secrets: ["env:WEBHOOK_SECRET"] }\naws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 8192 }\nwildcard: { enabled: true }\n`,
    });
    closers.push(() => stack.close());
    stack.aws.setTrustPolicyQuota(8192);
    for (let r = 0; r < 10; r++) stack.aws.putRole(`astro-f${r}`, EC2_TRUST);
    stack.aws.setFaults({
      throttleRate: 0.1,
      serverErrorRate: 0.05,
      concurrentWriterRate: 0.2,
      actions: ['GetRole', 'UpdateAssumeRolePolicy'],
      seed: 11,
    });
    const events = Array.from({ length: AWS_EVENTS }, (_, i) =>
      deploymentEvent(
        apiDeployment({
          id: id('aws', i),
          namespace: ns('aws', i),
          type: 'DEDICATED',
          effectiveWorkloadIdentity: `arn:aws:iam::123456789012:role/astro-f${i % 10}`,
        }),
      ),
    );
    await inWaves(events, 20, async (event) => {
      const response = await postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(event));
      expect(response.status).toBe(202);
    });
    await stack.idle();
    expect(stack.deadLetters).toEqual([]);
    for (let r = 0; r < 10; r++) {
      const policy = stack.aws.getTrustPolicy(`astro-f${r}`) as {
        Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, string[]>> }>;
      };
      expect(policy.Statement[0]).toEqual(EC2_TRUST.Statement[0]);
      const subjects = policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync')).flatMap(
        (s) => s.Condition?.StringLike?.[SUB] ?? [],
      );
      const expected = events
        .map((_, i) => i)
        .filter((i) => i % 10 === r)
        .map((i) => `system:serviceaccount:${ns('aws', i)}:*`);
      expect(subjects).toEqual([...expected].sort());
    }
    // The faults really happened: lost updates were repaired by writing again.
    expect(stack.aws.calls.filter((c) => c.status >= 400).length).toBeGreaterThan(0);
  });

  it('AWS: IRSA subjects and Astro-managed principals on one role, with throttling, 5xx and a concurrent writer', {
    timeout: 120_000,
  }, async () => {
    const astro = (i: number) => `arn:aws:iam::999999999999:role/astro-wi-${ns('mix', i)}`;
    const stack = await startAwsStack({
      config: `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
aws:
  allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"]
  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::999999999999:role/astro-wi-*"]
  trustPolicyMaxSize: 16384
targets:
  - match: { names: ["managed-*"] }
    aws: { roleArn: "arn:aws:iam::123456789012:role/astro-mixed", trust: workload-identity }
wildcard: { enabled: true }
`,
    });
    closers.push(() => stack.close());
    stack.aws.setTrustPolicyQuota(16384);
    stack.aws.putRole('astro-mixed', EC2_TRUST);
    const count = Math.max(20, Math.floor(AWS_EVENTS / 2));
    for (let i = 0; i < count; i++) if (i % 2 === 1) stack.aws.addExternalPrincipal(astro(i));
    stack.aws.setFaults({
      throttleRate: 0.1,
      serverErrorRate: 0.05,
      concurrentWriterRate: 0.2,
      actions: ['GetRole', 'UpdateAssumeRolePolicy'],
      seed: 13,
    });
    // Even: a customer-managed Deployment on the role (IRSA); odd: an Astro-managed one the role trusts by ARN.
    const events = Array.from({ length: count }, (_, i) =>
      deploymentEvent(
        apiDeployment({
          id: id('mix', i),
          name: i % 2 === 0 ? `custom-${i}` : `managed-${i}`,
          namespace: ns('mix', i),
          type: 'DEDICATED',
          effectiveWorkloadIdentity: i % 2 === 0 ? 'arn:aws:iam::123456789012:role/astro-mixed' : astro(i),
        }),
      ),
    );
    await inWaves(events, 20, async (event) => {
      const response = await postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(event));
      expect(response.status).toBe(202);
    });
    await stack.idle();
    expect(stack.deadLetters).toEqual([]);
    const policy = stack.aws.getTrustPolicy('astro-mixed') as {
      Statement: Array<{
        Sid?: string;
        Principal?: { AWS?: string[] };
        Condition?: Record<string, Record<string, string[]>>;
      }>;
    };
    expect(policy.Statement[0]).toEqual(EC2_TRUST.Statement[0]);
    const subjects = policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySyncNs')).flatMap(
      (s) => s.Condition?.StringLike?.[SUB] ?? [],
    );
    const indexes = events.map((_, i) => i);
    expect(subjects).toEqual(
      indexes
        .filter((i) => i % 2 === 0)
        .map((i) => `system:serviceaccount:${ns('mix', i)}:*`)
        .sort(),
    );
    const principals = policy.Statement.find((s) => s.Sid === 'AstroIdentitySyncPrincipals')?.Principal?.AWS;
    expect(principals).toEqual(
      indexes
        .filter((i) => i % 2 === 1)
        .map(astro)
        .sort(),
    );
    expect(stack.aws.calls.filter((c) => c.status >= 400).length).toBeGreaterThan(0);
  });

  it(`GCP: ${GCP_EVENTS} events through Pub/Sub with 429, 5xx and etag conflicts on 20% of reads`, async () => {
    const stack = await startGcpStack({
      config: `gcp:\n  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: ${LOCAL_POOL} }\n`,
    });
    closers.push(() => stack.close());
    const accounts = Array.from({ length: 5 }, (_, i) => `astro-fault-${i}@acme-data.iam.gserviceaccount.com`);
    const conditional = {
      role: 'roles/iam.workloadIdentityUser',
      members: [`serviceAccount:${LOCAL_POOL}[ops/tool]`],
      condition: { title: 't', expression: 'true' },
    };
    for (const sa of accounts)
      stack.gcp.putServiceAccount(sa, {
        version: 3,
        bindings: [{ role: 'roles/viewer', members: ['user:ops@example.com'] }, conditional],
      });
    stack.gcp.setFaults({ rateLimitRate: 0.1, serverErrorRate: 0.05, concurrentWriterRate: 0.2, seed: 5 });
    await inWaves(
      Array.from({ length: GCP_EVENTS }, (_, i) => i),
      15,
      async (i) => {
        const deployment = apiDeployment({
          id: id('gcp', i),
          namespace: ns('gcp', i),
          cloudProvider: 'GCP',
          effectiveWorkloadIdentity: accounts[i % 5],
          airflowVersion: '3.0.2',
          remoteExecution: { enabled: true },
        });
        const delivery = await stack.publish({ webhookId: `msg_gcp_fault_${i}`, event: deploymentEvent(deployment) });
        expect(delivery.delivered).toBe(true);
      },
    );
    expect(stack.deadLetters).toEqual([]);
    accounts.forEach((sa, k) => {
      const policy = stack.gcp.getPolicy(sa) as {
        bindings: Array<{ role: string; members: string[]; condition?: unknown }>;
      };
      expect(policy.bindings.slice(0, 2)).toEqual([
        { role: 'roles/viewer', members: ['user:ops@example.com'] },
        conditional,
      ]);
      const members =
        policy.bindings.find((b) => b.role === 'roles/iam.workloadIdentityUser' && !b.condition)?.members ?? [];
      expect(new Set(members).size).toBe(members.length);
      const expected = Array.from({ length: GCP_EVENTS }, (_, i) => i)
        .filter((i) => i % 5 === k)
        .flatMap((i) =>
          ['apiserver', 'scheduler'].map(
            (c) => `serviceAccount:${LOCAL_POOL}[${ns('gcp', i)}/${ns('gcp', i)}-${c}-serviceaccount]`,
          ),
        );
      expect([...members].sort()).toEqual(expected.sort());
    });
    // The concurrent writer's members (it adds to another role) survived our writes.
    expect(stack.gcp.calls.some((c) => c.status === 409)).toBe(true);
  });

  it(`Azure: ${AZURE_IDENTITIES * PER_IDENTITY} events through the queue, two instances racing, with 429, 5xx and 409s`, async () => {
    const stack = await startAzureStack({});
    closers.push(() => stack.close());
    const second = stack.newInstance();
    const identities = Array.from({ length: AZURE_IDENTITIES }, (_, i) => `astro-fault-${i}`);
    const personal = {
      name: 'github-deploy',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:acme/dags:ref:refs/heads/main',
    };
    for (const name of identities) {
      stack.seedIdentity(name);
      stack.azure.putCredential(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, name, personal);
    }
    stack.azure.setFaults({ throttleRate: 0.1, retryAfterSeconds: 0, serverErrorRate: 0.05, latencyMs: 2, seed: 3 });
    const total = AZURE_IDENTITIES * PER_IDENTITY;
    await inWaves(
      Array.from({ length: total }, (_, i) => i),
      10,
      async (i) => {
        const deployment = apiDeployment({
          id: id('azr', i),
          namespace: ns('azr', i),
          cloudProvider: 'AZURE',
          oidcIssuerUrl: LOCAL_AKS_ISSUER,
          effectiveWorkloadIdentity: identityResourceId(identities[i % AZURE_IDENTITIES] ?? ''),
          airflowVersion: '3.0.2',
          remoteExecution: { enabled: true },
        });
        const delivery = await (i % 2 === 0 ? stack : second).enqueue({
          webhookId: `msg_azr_fault_${i}`,
          event: deploymentEvent(deployment),
        });
        expect(delivery.poisoned).toBe(false);
      },
    );
    expect(await stack.poisonMessages()).toEqual([]);
    identities.forEach((name, k) => {
      const credentials = stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, name);
      expect(credentials).toContainEqual({ ...personal, audiences: ['api://AzureADTokenExchange'] });
      const names = credentials
        .map((c) => c.name)
        .filter((n) => n !== 'github-deploy')
        .sort();
      const expected = Array.from({ length: total }, (_, i) => i)
        .filter((i) => i % AZURE_IDENTITIES === k)
        .flatMap((i) => [`${ns('azr', i)}-apiserver`, `${ns('azr', i)}-scheduler`]);
      // No partial Deployment: each has both of its credentials, and no subject appears twice.
      expect(names).toEqual(expected.sort());
      expect(new Set(credentials.map((c) => `${c.issuer} ${c.subject}`)).size).toBe(credentials.length);
    });
  });
});
