import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createLambdaLogger } from '../../functions/aws/lambda-logger.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, eventBridgeFixture } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS, postSigned } from '../support/deployments.ts';

type Statement = { Sid?: string; Condition?: Record<string, Record<string, string | string[]>> };
const SUB_KEY = `${ISSUER_AWS.replace('https://', '')}:sub`;

function managed(policy: unknown): Statement[] {
  return (policy as { Statement: Statement[] }).Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync'));
}

describe('AWS reconciler through the webhook and EventBridge', () => {
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
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['PutEvents', 'GetRole', 'UpdateAssumeRolePolicy', 'GetRole']);
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

  it('reports a writer that keeps erasing the grant and lets the platform retry the event', async () => {
    stack.aws.setFaults({ concurrentWriterRate: 1 });
    const before = stack.deadLetters.length;
    await send(apiDeployment());
    expect(stack.deadLetters.length).toBe(before + 1);
    expect(stack.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
    expect(stack.slack.messages.at(-1)?.text).toMatch(/another writer keeps replacing/);
  });

  it('keeps the IAM change when Slack is down and logs the failure without secrets', async () => {
    stack.slack.setDown(true);
    const logger = createLambdaLogger({ LOG_LEVEL: 'SILENT' });
    const logged: string[] = [];
    for (const level of ['warn', 'error'] as const) {
      vi.spyOn(logger, level).mockImplementation((...args: unknown[]) => void logged.push(JSON.stringify(args)));
    }
    const deps = handlerDeps(stack.env, { logger });
    const reconciler = createReconcilerHandler(deps);
    await reconciler(eventBridgeFixture(), lambdaContext('reconciler'));
    expect(managed(stack.aws.getTrustPolicy('astro-data'))).toHaveLength(1);
    expect(stack.slack.messages).toHaveLength(0);
    const log = logged.join('\n');
    expect(log).toMatch(/slack notification failed/i);
    expect(log).not.toContain(stack.env.SLACK_BOT_TOKEN);
    (await deps.runtime()).iam.destroy();
  });

  it('merges an SQS batch of events for one role into one write', async () => {
    const deps = handlerDeps(stack.env);
    const reconciler = createReconcilerHandler(deps);
    const namespaces = ['alpha-one-1111', 'beta-two-2222', 'gamma-three-3333'];
    const records = namespaces.map((namespace, i) => {
      const deployment = apiDeployment({
        id: `clq2batch${i}0000000000000000`.slice(0, 25),
        namespace,
        airflowVersion: '3.0.2',
        name: namespace,
      });
      const detail = { webhookId: `msg_batch_${i}`, event: deploymentEvent(deployment) };
      return { messageId: `m-${i}`, body: JSON.stringify({ 'detail-type': 'Astro Deployment Changed', detail }) };
    });
    stack.aws.setTrustPolicyQuota(4096);
    stack.aws.putRole('astro-data', EC2_TRUST);
    const result = await reconciler({ Records: records } as never, lambdaContext('reconciler'));
    expect(result).toEqual({ batchItemFailures: [] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(stack.aws.count('GetRole')).toBe(2);
    expect(managed(stack.aws.getTrustPolicy('astro-data'))[0]?.Condition?.StringEquals?.[SUB_KEY]).toHaveLength(18);
    expect(stack.slack.messages).toHaveLength(3);
    (await deps.runtime()).iam.destroy();
  });
});
