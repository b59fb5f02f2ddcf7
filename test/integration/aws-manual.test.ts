import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment } from '../support/deployments.ts';

describe('AWS manual invocation', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.resetCalls();
    stack.slack.reset();
  });

  async function invoke(body: unknown, token = stack.manualToken) {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it('plans without writing on a dry run', async () => {
    const { status, json } = await invoke({ deployment: apiDeployment(), dryRun: true });
    expect(status).toBe(200);
    expect(json).toMatchObject({ dryRun: true, results: [{ cloud: 'aws', status: 'planned' }] });
    expect((json.results as Array<{ added: string[] }>)[0]?.added).toHaveLength(6);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(stack.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
  });

  it('reconciles synchronously and answers the per-target result', async () => {
    const first = await invoke({ deployment: apiDeployment() });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      results: [{ status: 'granted', target: 'arn:aws:iam::123456789012:role/astro-data' }],
    });
    const second = await invoke({ deployment: apiDeployment() });
    expect(second.json).toMatchObject({ results: [{ status: 'unchanged', added: [] }] });
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
  });

  it('accepts the token in its own header, so the Function URL can also require AWS_IAM (SigV4 in Authorization)', async () => {
    const response = await fetch(stack.manualUrl, {
      method: 'POST',
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIA.../20261123/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=abc',
        'x-astro-identity-sync-token': stack.manualToken,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ deployment: apiDeployment(), dryRun: true }),
    });
    expect(response.status).toBe(200);
  });

  it('answers 422 for a denied target', async () => {
    const { status, json } = await invoke({
      deployment: apiDeployment({ effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/admin' }),
    });
    expect(status).toBe(422);
    expect(json).toMatchObject({ results: [{ status: 'denied', reason: expect.stringMatching(/aws\.allowedRoles/) }] });
  });

  it.each([
    ['a wrong token', { deployment: apiDeployment() }, 'not-the-token', 401],
    ['no deployment', { dryRun: true }, undefined, 400],
    ['a deploymentId without the Astro API', { deploymentId: 'clq2w3e4r000008l4fdu1abcd' }, undefined, 400],
    ['an unknown field', { deployment: apiDeployment(), force: true }, undefined, 400],
  ])('rejects %s with zero IAM calls', async (_name, body, token, status) => {
    const response = await invoke(body, token);
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ error: { message: expect.any(String) } });
    expect(stack.aws.calls).toHaveLength(0);
  });
});
