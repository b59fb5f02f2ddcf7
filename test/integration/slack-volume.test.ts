import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { createScheduledHandler } from '../../functions/aws/scheduled-handler.ts';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, sqsEventFor } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const ORG = 'clorg0000000000000000000';
const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#platform-iam" }`;

const deployment = (tag: string, i: number, role = `astro-${tag}-${i}`) =>
  apiDeployment({
    id: `clq2${tag.replace(/[^a-z0-9]/g, '')}${String(i).padStart(3, '0')}`.padEnd(25, '0'),
    name: `${tag}-${i}`,
    namespace: `${tag}-ns-${1000 + i}`,
    effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${role}`,
  });

describe('Slack volume and a Slack that hangs', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({
      config,
      batchWindowMs: 200,
      env: { ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: '300' },
    });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.slack.reset();
    stack.aws.resetCalls();
  });

  function seed(list: Record<string, unknown>[]) {
    for (const d of list) {
      stack.aws.putRole(String(d.effectiveWorkloadIdentity).split('/').at(-1) ?? '', EC2_TRUST);
      stack.astro.upsert(d);
    }
  }

  it('posts one message per SQS batch, naming every Deployment and its target result', async () => {
    const list = Array.from({ length: 10 }, (_, i) => deployment('vol', i));
    seed(list);
    const before = stack.eventSourceMapping.invocations.length;
    await Promise.all(
      list.map((d) => postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(deploymentEvent(d)))),
    );
    await stack.idle();
    const batches = stack.eventSourceMapping.invocations.length - before;
    expect(batches).toBeLessThan(10);
    expect(stack.slack.messages).toHaveLength(batches);
    const told = stack.slack.messages.map((m) => JSON.stringify(m.blocks)).join('\n');
    for (const d of list) expect(told).toContain(String(d.namespace));
    expect(told.match(/added 6 subjects/g)).toHaveLength(10);
  });

  it('tries a hanging Slack once per invocation, keeps what it could not post, and delivers it when Slack answers', async () => {
    const deps = handlerDeps(stack.env);
    await deps.runtime();
    const reconciler = createReconcilerHandler(deps);
    const invoke = (tag: string) => {
      const list = [deployment(tag, 0), deployment(tag, 1)];
      seed(list);
      const event = sqsEventFor(list.map((d, i) => ({ webhookId: `msg_${tag}_${i}`, event: deploymentEvent(d) })));
      return reconciler(event, lambdaContext('reconciler', 300_000));
    };
    stack.slack.setHang(true);
    expect((await invoke('hang-a')).batchItemFailures).toEqual([]);
    const first = stack.slack.requestCount;
    expect(first).toBeGreaterThanOrEqual(1);
    // The second invocation has two messages (the kept one first); Slack is tried for the first only.
    expect((await invoke('hang-b')).batchItemFailures).toEqual([]);
    expect(stack.slack.requestCount - first).toBe(first);
    expect(stack.slack.messages).toHaveLength(0);
    stack.slack.setHang(false);
    await invoke('hang-c');
    const texts = stack.slack.messages.map((m) => m.text ?? '');
    expect(texts).toHaveLength(3);
    expect(texts[0]).toContain('hang-a-0');
    expect(texts[1]).toContain('hang-b-0');
    expect(texts[2]).toContain('hang-c-0');
    (await deps.runtime()).close();
  });

  it('does not post a sweep summary again while it says the same, and posts when it changes', async () => {
    // A Deployment whose role is outside the allowlist: the same problem every hour.
    stack.astro.upsert(deployment('deny', 0, 'payments-admin'));
    const deps = handlerDeps(stack.env);
    const sweep = () => createScheduledHandler(deps)({ task: 'sweep' }, lambdaContext('scheduled', 600_000));
    // Converge what earlier tests left, so the summary is the problem alone.
    await sweep();
    await sweep();
    expect(stack.slack.messages.at(-1)?.text).toMatch(/1 problem/);
    stack.slack.reset();
    await sweep();
    await sweep();
    expect(stack.slack.messages).toHaveLength(0);
    // A new problem changes the summary: told.
    stack.astro.upsert(deployment('deny', 1, 'payments-other'));
    await sweep();
    expect(stack.slack.messages).toHaveLength(1);
    expect(stack.slack.messages[0]?.text).toMatch(/2 problem/);
    // Gone (a quiet run) and back: told again.
    stack.astro.remove(String(deployment('deny', 0).id));
    stack.astro.remove(String(deployment('deny', 1).id));
    await sweep();
    expect(stack.slack.messages).toHaveLength(1);
    stack.astro.upsert(deployment('deny', 1, 'payments-other'));
    await sweep();
    expect(stack.slack.messages).toHaveLength(2);
    (await deps.runtime()).close();
  });
});
