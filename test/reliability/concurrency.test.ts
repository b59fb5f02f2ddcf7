import { afterAll, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { silentLogger as silent } from '../../functions/common/logger.ts';
import { consumeQueued } from '../../functions/common/queue-consumer.ts';
import { buildRuntime } from '../../functions/common/runtime.ts';
import { gcpAdapter } from '../../functions/gcp/gcp-adapter.ts';
import { startAwsStack } from '../../local/aws-stack.ts';
import {
  identityResourceId,
  LOCAL_AKS_ISSUER,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
  startAzureStack,
} from '../../local/azure-stack.ts';
import { LOCAL_POOL, startGcpStack } from '../../local/gcp-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { queuedEventSchema } from '../../shared/intake/queued-event.ts';
import { EC2_TRUST, sqsEventFor } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS } from '../support/deployments.ts';
import { scaled } from './scale.ts';

const EVENTS = scaled(200, 50);
const INSTANCES = 5;
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(closers.map((close) => close()));
});
const ns = (i: number) => `conc-ns-${String(i).padStart(4, '0')}`;
const delivered = (i: number, overrides: Record<string, unknown>) => ({
  messageId: `m${i}`,
  event: queued(i, overrides),
});

const queued = (i: number, overrides: Record<string, unknown>) =>
  queuedEventSchema.parse({
    webhookId: `msg_conc_${i}`,
    event: deploymentEvent(
      apiDeployment({ id: `clq2conc${String(i).padStart(17, '0')}`, namespace: ns(i), ...overrides }),
    ),
  });

describe(`concurrency: ${EVENTS} events at once on one target, from ${INSTANCES} instances that share nothing`, () => {
  it('AWS: one role; IAM has no etag, so the verify read finds every lost update and writes again', {
    timeout: 90_000,
  }, async () => {
    const stack = await startAwsStack({
      // Five writers race on one role with no etag; a 300 ms quiet window outlasts their read-modify-write cycles on a busy 2-core machine.
      config: `aws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 16384, settleMs: 300 }\nwildcard: { enabled: true }\n`,
    });
    closers.push(() => stack.close());
    stack.aws.setTrustPolicyQuota(16384);
    stack.aws.setFaults({ latencyMs: 2 });
    stack.aws.putRole('astro-shared', EC2_TRUST);
    const instances = Array.from({ length: INSTANCES }, () => createReconcilerHandler(handlerDeps(stack.env)));
    const detail = (i: number) =>
      queued(i, { type: 'DEDICATED', effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-shared' });
    // Each instance gets one-message SQS batches, as separate event source mapping pollers would hand them out.
    const answers = await Promise.all(
      Array.from({ length: EVENTS }, (_, i) =>
        instances[i % INSTANCES]?.(sqsEventFor([detail(i)]), lambdaContext('reconciler')),
      ),
    );
    // An event that lost every round is listed in batchItemFailures; SQS delivers it again: do so once.
    const retried = answers.flatMap((answer, i) =>
      answer !== undefined && 'batchItemFailures' in answer && answer.batchItemFailures.length > 0 ? [i] : [],
    );
    for (const i of retried) {
      const answer = await instances[0]?.(sqsEventFor([detail(i)], { receiveCount: 2 }), lambdaContext('reconciler'));
      expect(answer).toEqual({ batchItemFailures: [] });
    }
    const policy = stack.aws.getTrustPolicy('astro-shared') as {
      Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, string[]>> }>;
    };
    const subjects = policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync')).flatMap(
      (s) => s.Condition?.StringLike?.[`${ISSUER_AWS.replace('https://', '')}:sub`] ?? [],
    );
    const sequential = Array.from({ length: EVENTS }, (_, i) => `system:serviceaccount:${ns(i)}:*`).sort();
    expect(subjects).toEqual(sequential);
    expect(policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync'))).toHaveLength(1);
    expect(policy.Statement[0]).toEqual(EC2_TRUST.Statement[0]);
  });

  it('GCP: one service account; stale etags answer 409 and each instance re-reads', async () => {
    const stack = await startGcpStack({
      config: `gcp:\n  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: ${LOCAL_POOL} }\n`,
    });
    closers.push(() => stack.close());
    const sa = 'astro-shared@acme-data.iam.gserviceaccount.com';
    stack.gcp.putServiceAccount(sa, { bindings: [{ role: 'roles/viewer', members: ['user:ops@example.com'] }] });
    stack.gcp.setFaults({ latencyMs: 2 });
    const runtimes = await Promise.all(
      Array.from({ length: INSTANCES }, () => buildRuntime(gcpAdapter, stack.env, silent)),
    );
    const results = await Promise.all(
      Array.from({ length: EVENTS }, (_, i) => {
        const runtime = runtimes[i % INSTANCES];
        return runtime === undefined
          ? undefined
          : consumeQueued(
              runtime,
              [
                delivered(i, {
                  cloudProvider: 'GCP',
                  effectiveWorkloadIdentity: sa,
                  airflowVersion: '3.0.2',
                  remoteExecution: { enabled: true },
                }),
              ],
              silent,
            );
      }),
    );
    expect(
      results
        .flatMap((r) => r?.reports ?? [])
        .flatMap((r) => r.results.map((x) => x.status))
        .filter((s) => s !== 'granted' && s !== 'unchanged'),
    ).toEqual([]);
    const policy = stack.gcp.getPolicy(sa) as { bindings: Array<{ role: string; members: string[] }> };
    const members = policy.bindings.find((b) => b.role === 'roles/iam.workloadIdentityUser')?.members ?? [];
    const sequential = Array.from({ length: EVENTS }, (_, i) =>
      ['apiserver', 'scheduler'].map((c) => `serviceAccount:${LOCAL_POOL}[${ns(i)}/${ns(i)}-${c}-serviceaccount]`),
    ).flat();
    expect([...members].sort()).toEqual(sequential.sort());
    expect(policy.bindings[0]).toEqual({ role: 'roles/viewer', members: ['user:ops@example.com'] });
    expect(stack.gcp.calls.some((c) => c.status === 409)).toBe(true);
  });

  it('GCP: two kinds on one service account (workload identity users and impersonation) race and both converge', async () => {
    const sa = 'astro-mixed@acme-data.iam.gserviceaccount.com';
    const stack = await startGcpStack({
      config: `gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  allowedWorkloadIdentityPrincipals: ["astro-wi-*@astro-prod.iam.gserviceaccount.com"]
  pools: { default: ${LOCAL_POOL} }
targets:
  - match: { names: ["tc-*"] }
    gcp: { serviceAccount: "${sa}", grant: token-creator }
`,
    });
    closers.push(() => stack.close());
    stack.gcp.putServiceAccount(sa, { bindings: [{ role: 'roles/viewer', members: ['user:ops@example.com'] }] });
    stack.gcp.setFaults({ latencyMs: 2 });
    const runtimes = await Promise.all(
      Array.from({ length: INSTANCES }, () => buildRuntime(gcpAdapter, stack.env, silent)),
    );
    const events = Math.min(EVENTS, 60);
    // Even events: a customer-managed Deployment on the service account; odd: an Astro-managed one impersonating it.
    const overrides = (i: number) =>
      i % 2 === 0
        ? { name: `wi-${i}`, effectiveWorkloadIdentity: sa }
        : { name: `tc-${i}`, effectiveWorkloadIdentity: `astro-wi-${i}@astro-prod.iam.gserviceaccount.com` };
    const results = await Promise.all(
      Array.from({ length: events }, (_, i) =>
        consumeQueued(
          runtimes[i % INSTANCES] as NonNullable<(typeof runtimes)[number]>,
          [
            delivered(i, {
              cloudProvider: 'GCP',
              airflowVersion: '3.0.2',
              remoteExecution: { enabled: true },
              ...overrides(i),
            }),
          ],
          silent,
        ),
      ),
    );
    expect(
      results
        .flatMap((r) => r.reports)
        .flatMap((r) => r.results.map((x) => `${x.status} ${x.reason ?? ''}`))
        .filter((s) => !s.startsWith('granted')),
    ).toEqual([]);
    const policy = stack.gcp.getPolicy(sa) as { bindings: Array<{ role: string; members: string[] }> };
    const of = (role: string) => [...(policy.bindings.find((b) => b.role === role)?.members ?? [])].sort();
    const even = Array.from({ length: events }, (_, i) => i).filter((i) => i % 2 === 0);
    const odd = Array.from({ length: events }, (_, i) => i).filter((i) => i % 2 === 1);
    expect(of('roles/iam.workloadIdentityUser')).toEqual(
      even
        .flatMap((i) =>
          ['apiserver', 'scheduler'].map((c) => `serviceAccount:${LOCAL_POOL}[${ns(i)}/${ns(i)}-${c}-serviceaccount]`),
        )
        .sort(),
    );
    expect(of('roles/iam.serviceAccountTokenCreator')).toEqual(
      odd.map((i) => `serviceAccount:astro-wi-${i}@astro-prod.iam.gserviceaccount.com`).sort(),
    );
    expect(policy.bindings[0]).toEqual({ role: 'roles/viewer', members: ['user:ops@example.com'] });
  });

  it('Azure: one identity, 20 credentials (its hard limit); concurrent writes answer 409 and are retried one at a time', async () => {
    const stack = await startAzureStack({
      config: `azure:\n  allowedIdentities: ["${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/astro-*"]\n  useEffectiveWorkloadIdentity: false\ntargets:\n  - match: { all: true }\n    azure: { subscriptionId: "${LOCAL_SUBSCRIPTION}", resourceGroup: ${LOCAL_RESOURCE_GROUP}, identityName: astro-shared }\n    components: [scheduler]\n`,
    });
    closers.push(() => stack.close());
    stack.seedIdentity('astro-shared');
    stack.azure.setFaults({ latencyMs: 3 });
    const instances = [stack.instance, ...Array.from({ length: INSTANCES - 1 }, () => stack.newInstance())];
    const count = 20; // the identity holds at most 20 credentials
    const deliveries = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        instances[i % INSTANCES]?.enqueue(
          queued(i, {
            cloudProvider: 'AZURE',
            oidcIssuerUrl: LOCAL_AKS_ISSUER,
            effectiveWorkloadIdentity: identityResourceId('astro-shared'),
          }),
        ),
      ),
    );
    expect(deliveries.every((d) => d?.poisoned === false)).toBe(true);
    const names = stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, 'astro-shared').map((c) => c.name);
    expect(names.sort()).toEqual(Array.from({ length: count }, (_, i) => `${ns(i)}-scheduler`).sort());
    expect(stack.azure.calls.some((c) => c.status === 409)).toBe(true);
  });
});
