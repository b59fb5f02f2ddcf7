import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const OLD = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const NEW = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const RETIRED = 'whsec_dGhpcy1zZWNyZXQtd2FzLXJvdGF0ZWQtb3V0';

describe('replay, forgery and outages (AWS path end to end)', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    // Rotation in progress: the new secret and the previous one are both accepted; the one before that is gone.
    stack = await startAwsStack({
      config: `webhook: { secrets: ["env:NEW_SECRET", "env:OLD_SECRET"] }
aws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"], trustPolicyMaxSize: 65536 }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`,
      env: { NEW_SECRET: NEW, OLD_SECRET: OLD },
      webhookSecret: NEW,
    });
    stack.aws.setTrustPolicyQuota(65536);
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.putRole('payments-admin', EC2_TRUST);
  });
  afterAll(() => stack.close());
  const body = (overrides: Record<string, unknown> = {}) => JSON.stringify(deploymentEvent(apiDeployment(overrides)));
  const writes = () => stack.aws.count('UpdateAssumeRolePolicy');

  it('accepts both secrets during rotation and refuses a rotated-out one with zero writes', async () => {
    const before = writes();
    expect((await postSigned(stack.webhookUrl, RETIRED, body())).status).toBe(401);
    await stack.idle();
    expect(writes()).toBe(before);
    expect((await postSigned(stack.webhookUrl, OLD, body({ namespace: 'rotated-old' }))).status).toBe(202);
    expect((await postSigned(stack.webhookUrl, NEW, body({ namespace: 'rotated-new' }))).status).toBe(202);
    await stack.idle();
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-data'))).toMatch(
      /rotated-old.*rotated-new|rotated-new.*rotated-old/s,
    );
  });

  it('acknowledges a replay inside the tolerance without publishing, and refuses a stale timestamp', async () => {
    const replayed = body({ namespace: 'replayed-ns' });
    await postSigned(stack.webhookUrl, NEW, replayed, { id: 'msg_replay_attack' });
    await stack.idle();
    const published = stack.aws.count('PutEvents');
    const again = await postSigned(stack.webhookUrl, NEW, replayed, { id: 'msg_replay_attack' });
    expect(again.json).toMatchObject({ status: 'duplicate' });
    expect(stack.aws.count('PutEvents')).toBe(published);
    const stale = await postSigned(stack.webhookUrl, NEW, replayed, {
      id: 'msg_stale',
      timestamp: new Date(Date.now() - 10 * 60_000),
    });
    expect(stale.status).toBe(401);
  });

  it('denies a validly signed event naming a role outside the allowlist, with zero reads or writes of it', async () => {
    stack.aws.resetCalls();
    const forged = await postSigned(
      stack.webhookUrl,
      NEW,
      body({ namespace: 'forged-ns', effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/payments-admin' }),
    );
    expect(forged.status).toBe(202);
    await stack.idle();
    expect(stack.aws.calls.filter((c) => c.service === 'iam')).toHaveLength(0);
    expect(stack.aws.getTrustPolicy('payments-admin')).toEqual(EC2_TRUST);
    expect(JSON.stringify(stack.slack.messages.at(-1))).toMatch(/denied/);
  });

  it('keeps IAM changes through a Slack outage and reports what happened once Slack is back, each message once', async () => {
    stack.slack.reset();
    stack.slack.setDown(true);
    for (const ns of ['outage-a', 'outage-b', 'outage-c']) {
      expect((await postSigned(stack.webhookUrl, NEW, body({ namespace: ns }))).status).toBe(202);
    }
    await stack.idle();
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-data'))).toMatch(/outage-a.*outage-b.*outage-c/s);
    expect(stack.slack.messages).toHaveLength(0);
    stack.slack.setDown(false);
    await postSigned(stack.webhookUrl, NEW, body({ namespace: 'outage-d' }));
    await stack.idle();
    // Events of one SQS batch share a message; across messages, each event is told once and in order.
    const namespaces = stack.slack.messages.flatMap((m) =>
      [...(m.text ?? '').matchAll(/outage-[a-d]/g)].map((x) => x[0]),
    );
    expect(namespaces).toEqual(['outage-a', 'outage-b', 'outage-c', 'outage-d']);
  });
});
