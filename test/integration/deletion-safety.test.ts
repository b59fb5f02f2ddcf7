import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const ORG = 'clorg0000000000000000000';
const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
manual: { token: env:MANUAL_TOKEN }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
prune: true
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam", notify: all }`;

const LIVE = apiDeployment({ id: 'clq2live0000000000000000a', name: 'live', namespace: 'live-ns-0001' });

describe('a deletion never takes a live Deployment’s access (prune on, the Astro API as the truth)', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({ config });
  });
  afterAll(() => stack.close());
  beforeEach(async () => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.astro.upsert(LIVE);
    const granted = await manual({ deploymentId: LIVE.id });
    expect(granted.json).toMatchObject({ results: [{ status: 'granted' }] });
    stack.aws.resetCalls();
    stack.slack.reset();
  });

  async function manual(body: unknown) {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }
  const trusts = (namespace: string) => JSON.stringify(stack.aws.getTrustPolicy('astro-data')).includes(namespace);

  it('a forged deletion of an unknown id carrying a live namespace is denied, with zero writes', async () => {
    const forged = apiDeployment({ id: 'clq2forged00000000000000a', name: 'forged', namespace: 'live-ns-0001' });
    const answer = await manual({ type: 'deployment.deleted', deployment: forged });
    expect(answer.json).toMatchObject({
      results: [
        {
          status: 'denied',
          reason: expect.stringMatching(/namespace live-ns-0001 is still used by a live Deployment/),
        },
      ],
    });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(trusts('live-ns-0001-scheduler-serviceaccount')).toBe(true);
  });

  it('the same forgery through the signed webhook and the queue changes nothing either', async () => {
    const forged = apiDeployment({ id: 'clq2forged00000000000000b', name: 'forged', namespace: 'live-ns-0001' });
    const response = await postSigned(
      stack.webhookUrl,
      stack.webhookSecret,
      JSON.stringify(deploymentEvent(forged, 'deployment.deleted')),
    );
    expect(response.status).toBe(202);
    await stack.idle();
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(trusts('live-ns-0001-scheduler-serviceaccount')).toBe(true);
    expect(JSON.stringify(stack.slack.messages)).toContain('still used by a live Deployment');
  });

  it('a real deletion (id gone, namespace used by no one) is pruned', async () => {
    const gone = apiDeployment({ id: 'clq2gone00000000000000000', name: 'gone', namespace: 'gone-ns-0002' });
    stack.astro.upsert(gone);
    await manual({ deploymentId: gone.id });
    stack.astro.remove(gone.id as string);
    const answer = await manual({ type: 'deployment.deleted', deployment: gone });
    expect(answer.json).toMatchObject({ results: [{ status: 'revoked' }] });
    expect(trusts('gone-ns-0002')).toBe(false);
    expect(trusts('live-ns-0001-scheduler-serviceaccount')).toBe(true);
  });

  it('a deletion the API does not confirm yet is deferred for a retry, not dropped', async () => {
    const answer = await manual({ type: 'deployment.deleted', deployment: LIVE });
    expect(answer.status).toBe(503);
    expect(JSON.stringify(answer.json)).toContain('retrying later');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('a list the tool cannot fully read leaves room for doubt: nothing is revoked', async () => {
    const gone = apiDeployment({ id: 'clq2gone00000000000000001', name: 'gone', namespace: 'gone-ns-0003' });
    stack.astro.upsert(apiDeployment({ id: 'clq2bad00000000000000000a', namespace: 'Not A Namespace' }));
    try {
      const answer = await manual({ type: 'deployment.deleted', deployment: gone });
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(JSON.stringify(answer.json)).toMatch(/cannot read/);
      expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    } finally {
      stack.astro.remove('clq2bad00000000000000000a');
    }
  });
});
