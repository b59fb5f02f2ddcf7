import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookDeps } from '../../functions/aws/webhook-deps.ts';
import { createWebhookHandler } from '../../functions/aws/webhook-handler.ts';
import { answering, reconcileNow, webhookFlow } from '../../functions/common/http-flows.ts';
import { silentLogger as silent } from '../../functions/common/logger.ts';
import { buildRuntime } from '../../functions/common/runtime.ts';
import { gcpAdapter } from '../../functions/gcp/gcp-adapter.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { type HostileRequest, hostileRequest } from './hostile-requests.ts';
import { scaled } from './scale.ts';

const AWS_RUNS = scaled(50_000, 10_000);
const SYNC_RUNS = scaled(10_000, 2_000);

function functionUrlEvent(request: HostileRequest): APIGatewayProxyEventV2 {
  const binary = typeof request.body !== 'string';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: request.headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'x',
      domainName: 'x.lambda-url.us-east-1.on.aws',
      domainPrefix: 'x',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'fuzz' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    body: binary ? Buffer.from(request.body).toString('base64') : (request.body as string),
    isBase64Encoded: binary,
  };
}

describe('hostile input: every malformed, forged or out-of-bounds webhook answers 4xx and writes nothing', () => {
  let aws: AwsStack;
  let gcp: GcpStack;
  beforeAll(async () => {
    [aws, gcp] = await Promise.all([startAwsStack(), startGcpStack()]);
    aws.aws.putRole('astro-data', EC2_TRUST);
  });
  afterAll(async () => {
    await Promise.all([aws.close(), gcp.close()]);
  });

  it(`AWS webhook function: ${AWS_RUNS} generated requests`, async () => {
    const handler = createWebhookHandler(webhookDeps(aws.env));
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(hostileRequest(aws.webhookSecret), async (request) => {
        const result = await handler(functionUrlEvent(request), lambdaContext('webhook'));
        const kind = request.kind.split(' ')[0] ?? request.kind;
        seen.set(kind, (seen.get(kind) ?? 0) + 1);
        expect(result.statusCode, request.kind).toBeGreaterThanOrEqual(400);
        expect(result.statusCode, request.kind).toBeLessThan(500);
        expect(JSON.parse(result.body ?? '{}')).toMatchObject({
          error: { code: expect.any(String), message: expect.any(String) },
        });
      }),
      { numRuns: AWS_RUNS, seed: 20261123 },
    );
    expect(aws.aws.count('PutEvents')).toBe(0);
    expect(aws.aws.calls.filter((c) => c.service === 'iam')).toHaveLength(0);
    expect(aws.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
    // Every family of attack was actually generated.
    expect(seen.size).toBeGreaterThanOrEqual(11);
  }, 120_000);

  it(`synchronous intake (GCP HTTP function and Azure HTTP trigger share it): ${SYNC_RUNS} generated requests`, async () => {
    const runtime = await buildRuntime(gcpAdapter, gcp.env, silent);
    await fc.assert(
      fc.asyncProperty(hostileRequest(gcp.webhookSecret), async (request) => {
        const { status } = await answering(silent, gcpAdapter.classify, () =>
          webhookFlow(runtime, { method: 'POST', ...request }, (event, l) => reconcileNow(runtime, event, l), silent),
        );
        expect(status, request.kind).toBeGreaterThanOrEqual(400);
        expect(status, request.kind).toBeLessThan(500);
      }),
      { numRuns: SYNC_RUNS, seed: 7 },
    );
    expect(gcp.gcp.calls).toHaveLength(0);
  }, 120_000);
});
