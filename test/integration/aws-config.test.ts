import { afterEach, describe, expect, it } from 'vitest';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const three = ['alpha-one-1111', 'beta-two-2222', 'gamma-three-3333'].map((namespace, i) =>
  apiDeployment({ id: `clq2cfg${i}000000000000000000`.slice(0, 25), name: namespace, namespace }),
);

describe('AWS function configuration', () => {
  let stack: AwsStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /** One event at a time, as events further apart than the batching window arrive: one SQS batch each. */
  async function sendAll(s: AwsStack, deployments: Record<string, unknown>[]) {
    const before = s.eventSourceMapping.invocations.length;
    for (const deployment of deployments) {
      const response = await postSigned(s.webhookUrl, s.webhookSecret, JSON.stringify(deploymentEvent(deployment)));
      expect(response.status).toBe(202);
      await s.idle();
    }
    const batches = s.eventSourceMapping.invocations.slice(before);
    expect(batches.map((i) => i.messageIds.length)).toEqual(deployments.map(() => 1));
  }

  it('reads the config and every secret from SSM Parameter Store and Secrets Manager', async () => {
    const config = `webhook: { secrets: ["aws-sm:astro-identity-sync/webhook"] }
manual: { token: "aws-ssm:/astro-identity-sync/manual-token" }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
slack: { mode: web-api, token: "aws-sm:astro-identity-sync/slack", channel: "#iam" }`;
    stack = await startAwsStack({
      webhookSecret: SECRET,
      env: { ASTRO_IDENTITY_SYNC_CONFIG: 'aws-ssm:/astro-identity-sync/config' },
    });
    stack.aws.putParameter('/astro-identity-sync/config', config);
    stack.aws.putSecret('astro-identity-sync/webhook', SECRET);
    stack.aws.putParameter('/astro-identity-sync/manual-token', 'manual-secret-token');
    stack.aws.putSecret('astro-identity-sync/slack', 'xoxb-local-test-token');
    stack.aws.putRole('astro-data', EC2_TRUST);

    await sendAll(stack, [apiDeployment()]);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(stack.slack.messages.map((m) => m.channel)).toEqual(['#iam']);
    const manual = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: 'Bearer manual-secret-token', 'content-type': 'application/json' },
      body: JSON.stringify({ deployment: apiDeployment(), dryRun: true }),
    });
    expect(manual.status).toBe(200);
    // Each function reads the config and the manual token once at cold start (3 functions), then serves warm
    // invocations from the cache: a second event costs no more reads.
    expect(stack.aws.count('GetParameter')).toBe(6);
    await sendAll(stack, [apiDeployment({ namespace: 'second-one-2222', id: 'clq2second000000000000000' })]);
    expect(stack.aws.count('GetParameter')).toBe(6);
  });

  it('answers 500 without details, and writes nothing, when a secret cannot be read', async () => {
    const config = `webhook: { secrets: ["aws-sm:does-not-exist"] }\naws: { allowedRoles: ["arn:aws:iam::123456789012:role/*"] }`;
    stack = await startAwsStack({ config });
    const response = await postSigned(stack.webhookUrl, SECRET, JSON.stringify(deploymentEvent(apiDeployment())));
    expect(response).toEqual({
      status: 500,
      json: { error: { code: 'internal', message: 'Internal error; see the function logs.' } },
    });
    expect(stack.aws.count('PutEvents')).toBe(0);
  });

  it('plans against the live quota from GetAccountSummary when asked, read once per cold start', async () => {
    const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }\naws: { allowedRoles: ["arn:aws:iam::123456789012:role/*"], useLiveQuota: true }`;
    stack = await startAwsStack({ config });
    stack.aws.setTrustPolicyQuota(4096);
    stack.aws.putRole('astro-data', EC2_TRUST);
    await sendAll(stack, three);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(3);
    expect(stack.aws.count('GetAccountSummary')).toBe(1);
  });

  it('reports does-not-fit after one refused write when the configured limit is above the real quota', async () => {
    const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
aws: { allowedRoles: ["arn:aws:iam::123456789012:role/*"], trustPolicyMaxSize: 8192 }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }`;
    stack = await startAwsStack({ config });
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.setTrustPolicyQuota(1200);
    await sendAll(stack, three);
    // One fits in 1200 characters; each of the others is refused by IAM exactly once (the SDK would retry
    // LimitExceeded as throttling; our strategy does not) and reported as does-not-fit with the real quota.
    expect(stack.aws.calls.filter((c) => c.action === 'UpdateAssumeRolePolicy').map((c) => c.status)).toEqual([
      200, 409, 409,
    ]);
    const last = JSON.stringify(stack.slack.messages.at(-1));
    expect(last).toMatch(/does not fit/i);
    expect(last).toMatch(/ACLSizePerRole: 1200/);
    expect(stack.deadLetters).toHaveLength(0);
  });
});
