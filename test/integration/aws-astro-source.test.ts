import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const ORG = 'clorg0000000000000000000';
const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
manual: { token: env:MANUAL_TOKEN }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam", notify: all }`;

describe('AWS functions with the Astro API as the source of truth', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({ config });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.resetCalls();
    stack.astro.setFaults({});
    stack.slack.reset();
  });

  const subjects = () => JSON.stringify(stack.aws.getTrustPolicy('astro-data'));

  it('plans from the API, so a signed payload cannot choose the namespace', async () => {
    stack.astro.upsert(apiDeployment());
    const forged = apiDeployment({ namespace: 'victim-namespace-0001' });
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(deploymentEvent(forged)));
    expect(response.status).toBe(202);
    await stack.idle();
    expect(subjects()).toContain('nebular-gravity-1234-scheduler-serviceaccount');
    expect(subjects()).not.toContain('victim-namespace-0001');
  });

  it('reconciles a manual {"deploymentId"} by reading the Deployment from the API', async () => {
    stack.astro.upsert(apiDeployment({ id: 'clq2manual000000000000000', namespace: 'manual-ns-7777' }));
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: 'clq2manual000000000000000' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      deployment: { namespace: 'manual-ns-7777' },
      results: [{ status: 'granted' }],
    });
  });

  it('writes nothing while the Astro API is down, says so, and catches up once it is back', async () => {
    stack.astro.upsert(apiDeployment({ id: 'clq2outage000000000000000', namespace: 'outage-ns-5555' }));
    stack.astro.setFaults({ down: true });
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: 'clq2outage000000000000000' }),
    });
    expect(response.status).toBe(503);
    expect(JSON.stringify(await response.json())).toMatch(/Astro API/);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);

    stack.astro.setFaults({});
    const again = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: 'clq2outage000000000000000' }),
    });
    expect(again.status).toBe(200);
    expect(subjects()).toContain('outage-ns-5555');
  });

  it('answers 400 for a Deployment the API does not know', async () => {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deploymentId: 'clq2unknown00000000000000' }),
    });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toMatch(/does not know Deployment/);
  });

  it('tells Slack about a signed webhook naming a Deployment the API does not know, and writes nothing', async () => {
    const event = deploymentEvent(apiDeployment({ id: 'clq2unknown00000000000001' }));
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(event), {
      id: 'msg_unknown_1',
    });
    // The sender learns only that the event was queued; the reconciler finds out and must not stay silent.
    expect(response.status).toBe(202);
    await stack.idle();
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(stack.deadLetters).toHaveLength(0);
    const [message] = stack.slack.messages;
    expect(message?.text).toMatch(/refused an event for Deployment clq2unknown00000000000001/);
    expect(message?.text).toMatch(/does not know Deployment clq2unknown00000000000001/);
    expect(JSON.stringify(message?.blocks)).toContain('msg_unknown_1');
  });
});
