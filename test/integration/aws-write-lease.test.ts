import { DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { queuedEventSchema } from '../../shared/intake/queued-event.ts';
import { EC2_TRUST, sqsEventFor } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS } from '../support/deployments.ts';
import { runScheduled } from '../support/scheduled.ts';

const ROLE = 'astro-shared';
const ROLE_ARN = `arn:aws:iam::123456789012:role/${ROLE}`;
const SUB = `${ISSUER_AWS.replace('https://', '')}:sub`;
const EVENTS = 50;
const config = `manual: { token: "env:MANUAL_TOKEN" }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
aws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 16384 }
wildcard: { enabled: true }
`;

const ns = (i: number) => `lease-ns-${String(i).padStart(4, '0')}`;
/** Every fifth Deployment changed just now (the poller's window); the others long ago (webhook and manual only). */
const deployment = (i: number) => {
  const at = i % 5 === 4 ? new Date().toISOString() : '2020-01-01T00:00:00Z';
  return apiDeployment({
    id: `clq2lease${String(i).padStart(16, '0')}`,
    name: `lease-${i}`,
    namespace: ns(i),
    effectiveWorkloadIdentity: ROLE_ARN,
    createdAt: at,
    updatedAt: at,
  });
};

function subjects(stack: AwsStack): Set<string> {
  const policy = stack.aws.getTrustPolicy(ROLE) as {
    Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, string[]>> }>;
  };
  return new Set(
    policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync')).flatMap(
      (s) => s.Condition?.StringLike?.[SUB] ?? [],
    ),
  );
}
const subjectOf = (i: number) => `system:serviceaccount:${ns(i)}:*`;

interface Race {
  /** Events whose handler answered success: each must be in the final policy. */
  readonly succeeded: number[];
  readonly failed: number[];
}

/**
 * The manual function (HTTP), two reconciler instances (one SQS batch per event) and two scheduled polls, all at
 * once on one role: three functions that share nothing but IAM (and, when configured, the lease table).
 */
async function race(stack: AwsStack): Promise<Race> {
  const reconcilers = [0, 1].map(() => createReconcilerHandler(handlerDeps(stack.env)));
  const succeeded: number[] = [];
  const failed: number[] = [];
  const track = (i: number, ok: boolean) => (ok ? succeeded : failed).push(i);
  const manual = async (i: number) => {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: deployment(i) }),
    });
    const body = (await response.json()) as { results?: Array<{ status: string }> };
    track(i, response.status === 200 && body.results?.[0]?.status === 'granted');
  };
  const reconcile = async (i: number) => {
    const detail = queuedEventSchema.parse({ webhookId: `msg_lease_${i}`, event: deploymentEvent(deployment(i)) });
    const answer = await reconcilers[i % 2]?.(sqsEventFor([detail]), lambdaContext('reconciler'));
    track(i, answer !== undefined && 'batchItemFailures' in answer && answer.batchItemFailures.length === 0);
  };
  const polled = Array.from({ length: EVENTS }, (_, i) => i).filter((i) => i % 5 === 4);
  const poll = async () => {
    try {
      await runScheduled(stack, 'poll');
      for (const i of polled) track(i, true);
    } catch {
      for (const i of polled) track(i, false);
    }
  };
  await Promise.all([
    ...Array.from({ length: EVENTS }, (_, i) => i)
      .filter((i) => i % 5 !== 4)
      .map((i) => (i % 2 === 0 ? manual(i) : reconcile(i))),
    poll(),
    poll(),
  ]);
  return { succeeded: [...new Set(succeeded)], failed: [...new Set(failed)].filter((i) => !succeeded.includes(i)) };
}

async function retry(stack: AwsStack, i: number): Promise<void> {
  const response = await fetch(stack.manualUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deployment: deployment(i) }),
  });
  expect(response.status).toBe(200);
}

describe('one writer per role across the manual, reconciler and scheduled functions', () => {
  let stack: AwsStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it(`${EVENTS} events racing on one role with 20 ms IAM latency and 20% throttled writes: no grant lost, every success in the policy`, {
    timeout: 60_000,
  }, async () => {
    stack = await startAwsStack({ config });
    stack.aws.setTrustPolicyQuota(16384);
    stack.aws.putRole(ROLE, EC2_TRUST);
    for (let i = 0; i < EVENTS; i++) stack.astro.upsert(deployment(i));
    stack.aws.setFaults({ latencyMs: 20, throttleRate: 0.2, actions: ['UpdateAssumeRolePolicy'], seed: 7 });
    const { succeeded, failed } = await race(stack);
    const present = subjects(stack);
    // Every "granted" (and every event its function acknowledged) is really in the final document.
    expect(succeeded.filter((i) => !present.has(subjectOf(i)))).toEqual([]);
    // A failure is reported as retryable, so its sender delivers it again (the queue, the scheduler, the caller).
    for (const i of failed) await retry(stack, i);
    const after = subjects(stack);
    expect(Array.from({ length: EVENTS }, (_, i) => i).filter((i) => !after.has(subjectOf(i)))).toEqual([]);
    expect((stack.aws.getTrustPolicy(ROLE) as { Statement: unknown[] }).Statement[0]).toEqual(EC2_TRUST.Statement[0]);
  });

  it('a lease taken over between the read and the write: nothing planned from that read is written; it waits, re-reads and keeps the other write', async () => {
    stack = await startAwsStack({ config });
    const dynamo = stack.dynamo;
    if (dynamo === undefined) throw new Error('the stack runs DynamoDB by default');
    stack.aws.setTrustPolicyQuota(16384);
    stack.aws.putRole(ROLE, EC2_TRUST);
    stack.astro.upsert(deployment(0));
    // GetRole answers after 150 ms: time to take the lease over after ours was granted and before our write.
    stack.aws.setFaults({ latencyMs: 150 });
    dynamo.calls.length = 0;
    const client = dynamo.client();
    const pk = { S: `lease#role#${ROLE_ARN}` };
    const answer = retry(stack, 0);
    for (let waited = 0; !dynamo.calls.includes('PutItem'); waited += 2) {
      if (waited > 5_000) throw new Error('the manual function never took the lease');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    // Another writer's lease (as after an expiry), and the write it makes under it.
    await client.send(
      new PutItemCommand({
        TableName: dynamo.table,
        Item: { pk, owner: { S: 'another-writer' }, expiresAt: { N: String(Date.now() + 10_000) } },
      }),
    );
    const theirs = {
      Sid: 'TheirWrite',
      Effect: 'Allow',
      Principal: { Service: 'lambda.amazonaws.com' },
      Action: 'sts:AssumeRole',
    };
    stack.aws.putRole(ROLE, { ...EC2_TRUST, Statement: [...EC2_TRUST.Statement, theirs] });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    await client.send(new DeleteItemCommand({ TableName: dynamo.table, Key: { pk } }));
    await answer;
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(subjects(stack).has(subjectOf(0))).toBe(true);
    expect((stack.aws.getTrustPolicy(ROLE) as { Statement: unknown[] }).Statement).toContainEqual(theirs);
  });
});
