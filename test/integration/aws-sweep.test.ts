import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, ISSUER_AWS, postSigned } from '../support/deployments.ts';
import { runScheduled } from '../support/scheduled.ts';

const SUB = `${ISSUER_AWS.replace('https://', '')}:sub`;
const config = (extra = '') => `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000, pageSize: 100 }
aws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 65536 }
wildcard: { enabled: true }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
${extra}`;

const deployment = (i: number, overrides: Record<string, unknown> = {}) =>
  apiDeployment({
    id: `clq2dep${String(i).padStart(18, '0')}`,
    name: `dep-${i}`,
    namespace: `space-ns-${String(i).padStart(4, '0')}`,
    effectiveWorkloadIdentity: `arn:aws:iam::123456789012:role/astro-r${i % 20}`,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    ...overrides,
  });

function subjects(stack: AwsStack, role: string): string[] {
  const policy = stack.aws.getTrustPolicy(role) as {
    Statement: Array<{ Sid?: string; Condition?: Record<string, Record<string, string[]>> }>;
  };
  return policy.Statement.filter((s) => s.Sid?.startsWith('AstroIdentitySync')).flatMap((s) => [
    ...(s.Condition?.StringLike?.[SUB] ?? []),
    ...(s.Condition?.StringEquals?.[SUB] ?? []),
  ]);
}

describe('AWS poller and drift sweep (Astro API as the source of truth)', () => {
  let stack: AwsStack;
  afterEach(() => stack?.close());

  const run = (task: 'poll' | 'sweep', env: Record<string, string> = {}) => runScheduled(stack, task, env);

  async function start(extra = '') {
    stack = await startAwsStack({ config: config(extra) });
    stack.aws.setTrustPolicyQuota(65536);
    for (let r = 0; r < 20; r++) stack.aws.putRole(`astro-r${r}`, EC2_TRUST);
  }

  it('polls: picks up Deployments created or updated in the window, across pages, without any webhook', async () => {
    await start();
    for (let i = 0; i < 130; i++)
      stack.astro.upsert(deployment(i, { effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-r0' }));
    stack.astro.upsert(
      deployment(999, {
        updatedAt: '2020-01-01T00:00:00Z',
        effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-r1',
      }),
    );
    const result = await run('poll');
    expect(result.deployments).toBe(130);
    expect(subjects(stack, 'astro-r0')).toHaveLength(130);
    // One role, one write for the whole batch; the old Deployment is outside the window.
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(subjects(stack, 'astro-r1')).toHaveLength(0);
    expect(stack.astro.requests.filter((r) => r.path.endsWith('/deployments'))).toHaveLength(2);
    expect(stack.slack.messages).toHaveLength(1);
    expect(stack.slack.messages[0]?.text).toMatch(/poll: 130 Deployment\(s\), 130 change\(s\), 0 problem/);
  });

  it('sweeps 200 Deployments: the first run grants, the converged second run costs reads only and stays quiet', async () => {
    await start();
    for (let i = 0; i < 200; i++) stack.astro.upsert(deployment(i));
    await run('sweep');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(20);
    stack.aws.resetCalls();
    stack.slack.reset();
    const second = await run('sweep');
    expect(second.deployments).toBe(200);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    // 20 roles: one read to reconcile, one for the stale check.
    expect(stack.aws.count('GetRole')).toBe(40);
    expect(stack.slack.messages).toHaveLength(0);
  });

  it('restores a grant removed by hand and says so once', async () => {
    await start();
    stack.astro.upsert(deployment(1));
    await run('sweep');
    stack.aws.putRole('astro-r1', EC2_TRUST);
    stack.slack.reset();
    await run('sweep');
    expect(subjects(stack, 'astro-r1')).toEqual(['system:serviceaccount:space-ns-0001:*']);
    expect(stack.slack.messages).toHaveLength(1);
    expect(stack.slack.messages[0]?.text).toMatch(/sweep: 1 Deployment\(s\), 1 change/);
  });

  it('lists stale entries of deleted Deployments without touching them when prune is off', async () => {
    await start();
    stack.astro.upsert(deployment(1));
    stack.astro.upsert(deployment(21));
    await run('sweep');
    stack.astro.remove(deployment(21).id as string);
    stack.slack.reset();
    stack.aws.resetCalls();
    await run('sweep');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(subjects(stack, 'astro-r1')).toContain('system:serviceaccount:space-ns-0021:*');
    expect(JSON.stringify(stack.slack.messages[0])).toMatch(/1 stale.*prune is off/);
  });

  it('with pruneGraceMinutes, removes only what has stayed stale that long on the sweeps (marks in the lease table)', async () => {
    await start('prune: true\npruneGraceMinutes: 60');
    for (const i of [1, 21, 41, 61]) stack.astro.upsert(deployment(i));
    await run('sweep');
    expect(subjects(stack, 'astro-r1')).toHaveLength(4);
    for (const i of [21, 41, 61]) stack.astro.remove(deployment(i).id as string);
    // Earlier sweeps found two of them stale already: 21 for 90 minutes (last seen 30 minutes ago), 61 long ago but
    // not since (a break of 5 hours starts the run over). 41 is stale for the first time now.
    const now = Date.now();
    const mark = (ns: string, first: number, last: number) =>
      stack.dynamo?.client().send(
        new PutItemCommand({
          TableName: stack.dynamo.table,
          Item: {
            pk: { S: `stale#aws-role|arn:aws:iam::123456789012:role/astro-r1|${ns}` },
            firstSeen: { N: String(first) },
            lastSeen: { N: String(last) },
          },
        }),
      );
    await mark('space-ns-0021', now - 90 * 60_000, now - 30 * 60_000);
    await mark('space-ns-0061', now - 8 * 3600_000, now - 5 * 3600_000);
    await run('sweep');
    expect(subjects(stack, 'astro-r1').sort()).toEqual([
      'system:serviceaccount:space-ns-0001:*',
      'system:serviceaccount:space-ns-0041:*',
      'system:serviceaccount:space-ns-0061:*',
    ]);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/not removed yet: .*pruneGraceMinutes/);
  });

  it('with pruneGraceMinutes and no store to keep marks in, removes nothing and says why', async () => {
    stack = await startAwsStack({ config: config('prune: true\npruneGraceMinutes: 60'), leaseTable: false });
    stack.aws.putRole('astro-r1', EC2_TRUST);
    stack.astro.upsert(deployment(1));
    stack.astro.upsert(deployment(21));
    await run('sweep');
    stack.astro.remove(deployment(21).id as string);
    await run('sweep');
    expect(subjects(stack, 'astro-r1')).toHaveLength(2);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/needs a store that outlives this instance/);
  });

  it('prunes only its own entries of deleted Deployments, never a person’s statement', async () => {
    await start('prune: true');
    const personal = {
      Sid: 'PlatformTeamBreakGlass',
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${ISSUER_AWS.replace('https://', '')}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [SUB]: 'system:serviceaccount:space-ns-0021:space-ns-0021-worker-serviceaccount' } },
    };
    stack.aws.putRole('astro-r1', { Version: '2012-10-17', Statement: [...EC2_TRUST.Statement, personal] });
    stack.astro.upsert(deployment(1));
    stack.astro.upsert(deployment(21));
    await run('sweep');
    expect(subjects(stack, 'astro-r1')).toHaveLength(2);
    stack.astro.remove(deployment(21).id as string);
    await run('sweep');
    expect(subjects(stack, 'astro-r1')).toEqual(['system:serviceaccount:space-ns-0001:*']);
    const statements = (stack.aws.getTrustPolicy('astro-r1') as { Statement: unknown[] }).Statement;
    expect(statements).toContainEqual(personal);
    expect(statements[0]).toEqual(EC2_TRUST.Statement[0]);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/removed 1/);
  });

  it('removes a deleted Deployment’s grants on a deployment.deleted event only once the API no longer has it', async () => {
    await start('prune: true');
    stack.astro.upsert(deployment(3));
    await run('sweep');
    const event = JSON.stringify(deploymentEvent(deployment(3), 'deployment.deleted'));
    // Still in Astro: a forged or early deletion revokes nothing.
    await postSigned(stack.webhookUrl, stack.webhookSecret, event);
    await stack.idle();
    expect(subjects(stack, 'astro-r3')).toHaveLength(1);
    stack.astro.remove(deployment(3).id as string);
    await postSigned(stack.webhookUrl, stack.webhookSecret, event);
    await stack.idle();
    expect(subjects(stack, 'astro-r3')).toHaveLength(0);
  });

  it('changes nothing while the Astro API is down and catches up on the next run', async () => {
    await start();
    stack.astro.upsert(deployment(5));
    stack.astro.setFaults({ down: true });
    await expect(run('poll')).rejects.toThrow(/Astro API|503|unavailable/i);
    expect(stack.aws.calls.filter((c) => c.service === 'iam')).toHaveLength(0);
    await expect(run('sweep')).rejects.toThrow();
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/could not run.*next run catches up/);
    stack.astro.setFaults({});
    await run('poll');
    expect(subjects(stack, 'astro-r5')).toHaveLength(1);
  });
});
