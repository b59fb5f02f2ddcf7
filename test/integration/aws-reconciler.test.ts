import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createLambdaLogger } from '../../functions/aws/lambda-logger.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, sqsBatchFixture, sqsEventFor } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS, postSigned } from '../support/deployments.ts';

type Statement = { Sid?: string; Condition?: Record<string, Record<string, string | string[]>> };
const SUB_KEY = `${ISSUER_AWS.replace('https://', '')}:sub`;

function managed(policy: unknown): Statement[] {
  return (policy as { Statement: Statement[] }).Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync'));
}

describe('AWS reconciler through the webhook, EventBridge and the events queue', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.setFaults({});
    stack.aws.setTrustPolicyQuota(2048);
    stack.aws.resetCalls();
    stack.slack.reset();
    stack.slack.setDown(false);
  });

  async function send(deployment: Record<string, unknown>, type?: 'deployment.created' | 'deployment.updated') {
    const response = await postSigned(
      stack.webhookUrl,
      stack.webhookSecret,
      JSON.stringify(deploymentEvent(deployment, type)),
    );
    expect(response.status).toBe(202);
    await stack.idle();
  }

  it('grants a created Deployment, verifies it, and tells Slack', async () => {
    await send(apiDeployment());
    const [statement, ...others] = managed(stack.aws.getTrustPolicy('astro-data'));
    expect(others).toHaveLength(0);
    expect(statement?.Condition?.StringEquals?.[SUB_KEY]).toEqual(
      [
        'dag-processor-serviceaccount',
        'kpo',
        'scheduler-serviceaccount',
        'triggerer-serviceaccount',
        'webserver-serviceaccount',
        'worker-serviceaccount',
      ].map((sa) => `system:serviceaccount:nebular-gravity-1234:nebular-gravity-1234-${sa}`),
    );
    expect((stack.aws.getTrustPolicy('astro-data') as { Statement: unknown[] }).Statement[0]).toEqual(
      EC2_TRUST.Statement[0],
    );
    // Read, write, and one verify read taken after a quiet window (IAM has no etag, so it waits out racing writers).
    // The first grant naming the cluster's provider checks it exists (once per cold start).
    expect(stack.aws.calls.map((c) => c.action)).toEqual([
      'PutEvents',
      'GetRole',
      'GetOpenIDConnectProvider',
      'UpdateAssumeRolePolicy',
      'GetRole',
    ]);
    expect(stack.slack.messages).toHaveLength(1);
    expect(stack.slack.messages[0]?.text).toMatch(/etl-prod.*added 6 subjects/s);
  });

  it('costs one read and no write, and stays quiet in Slack, when the role is already up to date', async () => {
    await send(apiDeployment());
    stack.aws.resetCalls();
    stack.slack.reset();
    await send(apiDeployment({ updatedAt: '2026-11-21T00:00:00Z' }), 'deployment.updated');
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['PutEvents', 'GetRole']);
    expect(stack.slack.messages).toHaveLength(0);
  });

  it('keeps two Deployments on one role in one managed statement', async () => {
    await send(apiDeployment());
    await send(
      apiDeployment({
        id: 'clq2second00000000000000',
        name: 'ml-train',
        namespace: 'cosmic-lens-5678',
        airflowVersion: '3.0.2',
      }),
    );
    const statements = managed(stack.aws.getTrustPolicy('astro-data'));
    expect(statements).toHaveLength(1);
    const subjects = statements[0]?.Condition?.StringEquals?.[SUB_KEY] as string[];
    expect(subjects).toHaveLength(12);
    expect(subjects).toEqual([...subjects].sort());
  });

  it('denies a role outside the allowlist without reading it', async () => {
    stack.aws.putRole('payments-admin', EC2_TRUST);
    await send(apiDeployment({ effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/payments-admin' }));
    expect(stack.aws.calls.filter((c) => c.service === 'iam')).toHaveLength(0);
    expect(stack.aws.getTrustPolicy('payments-admin')).toEqual(EC2_TRUST);
    expect(stack.slack.messages[0]?.text).toMatch(/denied/i);
  });

  it('writes nothing and reports the remedies when the grant does not fit', async () => {
    await send(apiDeployment());
    await send(apiDeployment({ id: 'clq2second00000000000000', name: 'ml-train', namespace: 'cosmic-lens-5678' }));
    stack.aws.resetCalls();
    stack.slack.reset();
    await send(apiDeployment({ id: 'clq2third000000000000000', name: 'reporting', namespace: 'stellar-orbit-9012' }));
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY]).toHaveLength(12);
    const text = JSON.stringify(stack.slack.messages[0]);
    expect(text).toMatch(/does not fit/i);
    expect(text).toMatch(/L-C07B4B0D/);
  });

  it('restores its entry when a concurrent writer overwrites the trust policy', async () => {
    let overwrites = 0;
    stack.aws.setFaults({
      concurrentWriterRate: 1,
      concurrentWriter: (before, after) => (overwrites++ === 0 ? before : after),
    });
    await send(apiDeployment());
    expect(overwrites).toBe(2);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(2);
    expect(managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY]).toHaveLength(6);
    expect(stack.slack.messages[0]?.text).toMatch(/added 6 subjects/);
  });

  it('dead-letters a retryable failure after maxReceiveCount (5) receives, each one counted', async () => {
    // Every write throttled, past the SDK's own retries: retryable, so the reconciler lists it in batchItemFailures.
    stack.aws.setFaults({ throttleRate: 1, actions: ['UpdateAssumeRolePolicy'] });
    const before = stack.deadLetters.length;
    const invocationsBefore = stack.eventSourceMapping.invocations.length;
    await send(apiDeployment());
    expect(stack.deadLetters.length).toBe(before + 1);
    const letter = stack.deadLetters.at(-1);
    const deliveries = stack.eventSourceMapping.invocations.slice(invocationsBefore);
    expect(deliveries.map((d) => d.outcome)).toEqual(['partial', 'partial', 'partial', 'partial', 'partial']);
    expect(deliveries.map((d) => d.messageIds)).toEqual(Array.from({ length: 5 }, () => [letter?.messageId]));
    expect(deliveries.map((d) => d.receiveCounts)).toEqual([[1], [2], [3], [4], [5]]);
    expect(letter).toMatchObject({ receiveCount: 5, lastError: 'listed in batchItemFailures' });
    expect(letter?.envelope).toMatchObject({
      source: 'astro-identity-sync',
      'detail-type': 'Astro Deployment Changed',
      detail: { event: { data: { deploymentId: 'clq2w3e4r000008l4fdu1abcd' } } },
    });
    expect(stack.deadLetterQueue.messages().at(-1)).toMatchObject({
      messageId: letter?.messageId,
      body: letter?.body,
      deadLetterQueueSourceArn: stack.queue.arn,
    });
    expect(stack.queue.size).toBe(0);
    expect(stack.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
  });

  it('delivers a throttled write again through the queue, with its receive count, and then grants', async () => {
    // Throttled until the SDK's 3 attempts are spent, once: the second receive succeeds.
    stack.aws.setFaults({ sequence: ['throttle', 'throttle', 'throttle'], actions: ['UpdateAssumeRolePolicy'] });
    const invocationsBefore = stack.eventSourceMapping.invocations.length;
    const lettersBefore = stack.deadLetters.length;
    await send(apiDeployment());
    const deliveries = stack.eventSourceMapping.invocations.slice(invocationsBefore);
    expect(deliveries.map((d) => [d.outcome, d.receiveCounts])).toEqual([
      ['partial', [1]],
      ['success', [2]],
    ]);
    expect(stack.deadLetters.length).toBe(lettersBefore);
    expect(managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY]).toHaveLength(6);
  });

  it('reports a writer that keeps erasing the grant, and dead-letters the event after the configured receives', async () => {
    // Each receive spends the reconciler's 8 rounds of backoff, so this stack gives up after 2 receives.
    const own = await startAwsStack({ maxReceiveCount: 2 });
    try {
      own.aws.putRole('astro-data', EC2_TRUST);
      own.aws.setFaults({ concurrentWriterRate: 1 });
      const body = JSON.stringify(deploymentEvent(apiDeployment()));
      expect((await postSigned(own.webhookUrl, own.webhookSecret, body)).status).toBe(202);
      await own.idle();
      expect(own.eventSourceMapping.invocations.map((d) => [d.outcome, d.receiveCounts])).toEqual([
        ['partial', [1]],
        ['partial', [2]],
      ]);
      expect(own.deadLetters).toEqual([expect.objectContaining({ receiveCount: 2 })]);
      expect(own.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
      expect(own.slack.messages.at(-1)?.text).toMatch(/another writer keeps replacing/);
    } finally {
      await own.close();
    }
  });

  it('keeps the IAM change when Slack is down and logs the failure without secrets', async () => {
    stack.slack.setDown(true);
    const logger = createLambdaLogger('SILENT');
    const logged: string[] = [];
    for (const level of ['warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => void logged.push(JSON.stringify(args)));
    }
    const deps = handlerDeps(stack.env, { logger });
    const reconciler = createReconcilerHandler(deps);
    const result = await reconciler(sqsBatchFixture('sqs-batch.json'), lambdaContext('reconciler'));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(managed(stack.aws.getTrustPolicy('astro-data'))).toHaveLength(1);
    expect(stack.slack.messages).toHaveLength(0);
    const log = logged.join('\n');
    expect(log).toMatch(/slack notification failed/i);
    expect(log).not.toContain(stack.env.SLACK_BOT_TOKEN);
    (await deps.runtime()).close();
  });

  it('merges an SQS batch of events for one role into one write', async () => {
    const deps = handlerDeps(stack.env);
    const reconciler = createReconcilerHandler(deps);
    const namespaces = ['alpha-one-1111', 'beta-two-2222', 'gamma-three-3333'];
    const details = namespaces.map((namespace, i) => {
      const deployment = apiDeployment({
        id: `clq2batch${i}0000000000000000`.slice(0, 25),
        namespace,
        airflowVersion: '3.0.2',
        name: namespace,
      });
      return { webhookId: `msg_batch_${i}`, event: deploymentEvent(deployment) };
    });
    stack.aws.setTrustPolicyQuota(4096);
    stack.aws.putRole('astro-data', EC2_TRUST);
    const result = await reconciler(sqsEventFor(details), lambdaContext('reconciler'));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(stack.aws.count('GetRole')).toBe(2);
    expect(managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY]).toHaveLength(18);
    // One Slack message for the batch, naming each Deployment and its target result.
    expect(stack.slack.messages).toHaveLength(1);
    const told = JSON.stringify(stack.slack.messages[0]?.blocks);
    for (const namespace of namespaces) expect(told).toContain(namespace);
    expect(told.match(/added 6 subjects/g)).toHaveLength(3);
    (await deps.runtime()).close();
  });

  it('grants both Deployments of the recorded SQS batch with one write', async () => {
    const deps = handlerDeps(stack.env);
    const result = await createReconcilerHandler(deps)(sqsBatchFixture('sqs-batch.json'), lambdaContext('reconciler'));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    const subjects = managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY];
    expect(subjects).toHaveLength(12);
    expect(subjects).toContain('system:serviceaccount:cosmic-lens-5678:cosmic-lens-5678-kpo');
    expect(subjects).toContain('system:serviceaccount:nebular-gravity-1234:nebular-gravity-1234-kpo');
    (await deps.runtime()).close();
  });

  it('drops the malformed records of a batch without retrying them and grants the valid one', async () => {
    const deps = handlerDeps(stack.env);
    const event = sqsBatchFixture('sqs-batch-invalid.json');
    const result = await createReconcilerHandler(deps)(event, lambdaContext('reconciler'));
    // Neither a non-JSON body nor a detail that fails the schema can succeed later, so neither is listed for retry.
    expect(result).toEqual({ batchItemFailures: [] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    const subjects = managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY];
    expect(subjects).toHaveLength(6);
    expect(JSON.stringify(subjects)).toContain('cosmic-lens-5678');
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-data'))).not.toContain('bad:namespace');
    expect(stack.slack.messages).toHaveLength(1);
    (await deps.runtime()).close();
  });
});

describe('AWS events queue: a burst on one role through webhook -> EventBridge -> rule -> SQS -> reconciler', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    // A window long enough that a burst of webhooks lands in one batch even on a busy machine (Terraform: 5 s).
    stack = await startAwsStack({ batchWindowMs: 1000 });
  });
  afterAll(() => stack.close());

  it('folds the burst into fewer trust-policy writes than events', async () => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.resetCalls();
    const namespaces = ['burst-a-1111', 'burst-b-2222', 'burst-c-3333'];
    const responses = await Promise.all(
      namespaces.map((namespace, i) =>
        postSigned(
          stack.webhookUrl,
          stack.webhookSecret,
          JSON.stringify(
            deploymentEvent(
              apiDeployment({ id: `clq2burst${i}000000000000000`.slice(0, 25), name: namespace, namespace }),
            ),
          ),
        ),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual([202, 202, 202]);
    await stack.idle();
    expect(stack.aws.count('PutEvents')).toBe(3);
    const writes = stack.aws.count('UpdateAssumeRolePolicy');
    expect(writes).toBeGreaterThanOrEqual(1);
    expect(writes).toBeLessThan(namespaces.length);
    const batches = stack.eventSourceMapping.invocations;
    expect(batches.flatMap((b) => b.messageIds)).toHaveLength(3);
    expect(batches.length).toBeLessThan(3);
    expect(batches.every((b) => b.outcome === 'success')).toBe(true);
    const subjects = managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY];
    expect(subjects).toHaveLength(18);
    expect(stack.queue.size).toBe(0);
    expect(stack.deadLetters).toEqual([]);
  });
});
