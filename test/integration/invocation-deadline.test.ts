import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { createScheduledHandler } from '../../functions/aws/scheduled-handler.ts';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { startAzureStack } from '../../local/azure-stack.ts';
import { startGcpStack } from '../../local/gcp-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, sqsEventFor } from '../support/aws-fixtures.ts';
import { azureDeployment, queuedEvent } from '../support/azure-fixtures.ts';
import { apiDeployment, deploymentEvent } from '../support/deployments.ts';

const ORG = 'clorg0000000000000000000';
const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#platform-iam", notify: all }`;

/** `n` Deployments, each on a role of its own, so every event is a target of its own. */
function deployments(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) =>
    apiDeployment({
      id: `clq2${prefix}${String(i).padStart(2, '0')}`.padEnd(25, '0'),
      name: `${prefix}-${i}`,
      namespace: `${prefix}-ns-${1000 + i}`,
      effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-${prefix}-${i}`,
    }),
  );
}

describe('the reconciler within the time Lambda leaves it', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({ config });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.setFaults({});
    stack.astro.setFaults({});
    stack.aws.resetCalls();
    stack.slack.reset();
  });

  function batchOf(list: Record<string, unknown>[]) {
    for (const d of list) {
      stack.aws.putRole(String(d.effectiveWorkloadIdentity).split('/').at(-1) ?? '', EC2_TRUST);
      stack.astro.upsert(d);
    }
    return sqsEventFor(list.map((d, i) => ({ webhookId: `msg_${String(d.name)}_${i}`, event: deploymentEvent(d) })));
  }

  it('hands back in batchItemFailures what cannot finish, and returns before the deadline', async () => {
    const list = deployments(8, 'late');
    const event = batchOf(list);
    const deps = handlerDeps(stack.env);
    await deps.runtime(); // warm: the deadline is about the events, not the cold start
    // Every IAM call takes 150 ms: a target costs about a second, eight of them four at a time about two.
    stack.aws.setFaults({ latencyMs: 150 });
    const context = lambdaContext('reconciler', 2_500);
    const result = await createReconcilerHandler(deps)(event, context);
    const left = context.getRemainingTimeInMillis();
    expect(left).toBeGreaterThan(0);
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    // The second wave of four cannot start in time; whatever did not finish comes back, nothing is lost.
    expect(failed.size).toBeGreaterThanOrEqual(4);
    stack.aws.setFaults({});
    // What was not handed back was granted for real.
    event.Records.forEach((record, i) => {
      if (failed.has(record.messageId)) return;
      const role = `astro-late-${i}`;
      expect(JSON.stringify(stack.aws.getTrustPolicy(role))).toContain(`late-ns-${1000 + i}`);
    });
    // And the next delivery of the rest finishes them.
    const again = { Records: event.Records.filter((r) => failed.has(r.messageId)) };
    const second = await createReconcilerHandler(deps)(again, lambdaContext('reconciler', 300_000));
    expect(second.batchItemFailures).toEqual([]);
    for (let i = 0; i < list.length; i++) {
      expect(JSON.stringify(stack.aws.getTrustPolicy(`astro-late-${i}`))).toContain(`late-ns-${1000 + i}`);
    }
    (await deps.runtime()).close();
  });

  it('reads the Deployments of a batch from the Astro API at once, not one after another', async () => {
    const event = batchOf(deployments(10, 'read'));
    const deps = handlerDeps(stack.env);
    await deps.runtime();
    stack.astro.setFaults({ latencyMs: 200 });
    const before = stack.astro.requests.length;
    const result = await createReconcilerHandler(deps)(event, lambdaContext('reconciler', 300_000));
    expect(result.batchItemFailures).toEqual([]);
    const reads = stack.astro.requests.slice(before).filter((r) => /\/deployments\/[^/]+$/.test(r.path));
    expect(reads).toHaveLength(10);
    // They overlapped: several arrived before the first was answered (the client's rate limit, 20 a second, spaces
    // them 50 ms apart), and the whole batch took far less than ten reads one after another (10 x 200 ms).
    const firstAnswer = Math.min(...reads.map((r) => r.at));
    expect(reads.filter((r) => r.receivedAt < firstAnswer).length).toBeGreaterThanOrEqual(3);
    const span = Math.max(...reads.map((r) => r.at)) - Math.min(...reads.map((r) => r.receivedAt));
    expect(span).toBeLessThan(1_000);
    (await deps.runtime()).close();
  });

  it('ends a sweep by the deadline, reporting the targets it did not reach', async () => {
    const list = deployments(8, 'sweep');
    batchOf(list);
    const deps = handlerDeps(stack.env);
    await deps.runtime();
    stack.aws.setFaults({ latencyMs: 150 });
    const context = lambdaContext('scheduled', 2_000);
    const result = await createScheduledHandler(deps)({ task: 'sweep' }, context);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
    expect(result).toMatchObject({ task: 'sweep' });
    expect(stack.slack.messages.at(-1)?.text).toMatch(/problem/);
    expect(JSON.stringify(stack.slack.messages.at(-1)?.blocks)).toMatch(/ran out of time/);
    stack.aws.setFaults({});
    (await deps.runtime()).close();
  });
});

describe('the configured function timeout on GCP and Azure, whose runtimes do not say how long is left', () => {
  // 3 s: 2.4 s of work after the room kept for reporting; every cloud call below takes 2.5 s.
  const SHORT = { ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S: '3' };

  it('GCP: nacks an event whose target cannot finish in time, so Pub/Sub delivers it again', async () => {
    const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
    const stack = await startGcpStack({ env: SHORT, maxDeliveryAttempts: 1 });
    try {
      stack.gcp.putServiceAccount(SA);
      const deployment = apiDeployment({
        cloudProvider: 'GCP',
        effectiveWorkloadIdentity: SA,
        oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/acme-gke/locations/us-central1/clusters/astro',
      });
      const message = { webhookId: 'msg_gcp_late', event: deploymentEvent(deployment) };
      stack.gcp.setFaults({ latencyMs: 2_500 });
      expect(await stack.publish(message)).toEqual({ attempts: 1, delivered: false });
      expect(stack.gcp.calls.filter((c) => c.method === 'setIamPolicy')).toHaveLength(0);
      stack.gcp.setFaults({});
      expect(await stack.publish(message)).toMatchObject({ delivered: true });
    } finally {
      await stack.close();
    }
  });

  it('Azure: throws for an event whose target cannot finish in time, so the host delivers it again', async () => {
    const stack = await startAzureStack({ env: SHORT, maxDequeueCount: 1 });
    try {
      stack.seedIdentity('astro-late');
      stack.azure.setFaults({ latencyMs: 2_500 });
      const delivery = await stack.enqueue(queuedEvent(azureDeployment({}, 'astro-late'), 'msg_azure_late'));
      expect(delivery).toMatchObject({ attempts: 1, poisoned: true });
      expect(delivery.errors.every((e) => /retryable way/.test(e))).toBe(true);
      expect(stack.azure.count('createOrUpdate')).toBe(0);
    } finally {
      await stack.close();
    }
  });
});
