import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { type AzureStack, startAzureStack } from '../../local/azure-stack.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { EC2_TRUST, sqsEventFor } from '../support/aws-fixtures.ts';
import { azureDeployment, queuedEvent } from '../support/azure-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

/**
 * An endpoint that accepts the connection and never answers (the emulators' `hang` fault) must cost one configured
 * request timeout per attempt, not the whole invocation: the call fails as retryable and the platform delivers the
 * event again. Without the timeouts these calls wait until the test's own timeout.
 */
const TIMEOUT_ENV = { ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: '300', ASTRO_IDENTITY_SYNC_CONNECT_TIMEOUT_MS: '300' };

describe('an IAM endpoint that never answers', () => {
  let stack: AwsStack;
  beforeAll(async () => {
    stack = await startAwsStack({ env: TIMEOUT_ENV });
  });
  afterAll(() => stack.close());

  it('fails the read within the request timeout and hands the message back for retry', async () => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.setFaults({ hang: ['GetRole'] });
    const deps = handlerDeps(stack.env);
    const event = sqsEventFor([{ webhookId: 'msg_hang_iam', event: deploymentEvent(apiDeployment()) }]);
    const result = await createReconcilerHandler(deps)(event, lambdaContext('reconciler', 300_000));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
    const reads = stack.aws.calls.filter((c) => c.action === 'GetRole');
    // The SDK's retry strategy treats a timeout as transient: the first attempt and its 3 retries, each cut short.
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.every((c) => c.status === 0)).toBe(true);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    stack.aws.setFaults({});
    (await deps.runtime()).close();
  });

  it('answers the webhook 503 when EventBridge never answers, so the sender retries', async () => {
    stack.aws.setFaults({ hang: ['PutEvents'] });
    const body = JSON.stringify(deploymentEvent(apiDeployment()));
    const response = await postSigned(stack.webhookUrl, stack.webhookSecret, body);
    expect(response.status).toBe(503);
    const puts = stack.aws.calls.filter((c) => c.action === 'PutEvents');
    expect(puts.length).toBeGreaterThanOrEqual(1);
    expect(puts.every((c) => c.status === 0)).toBe(true);
    stack.aws.setFaults({});
  });
});

describe('a Google IAM endpoint that never answers', () => {
  const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
  let stack: GcpStack;
  beforeAll(async () => {
    stack = await startGcpStack({ env: TIMEOUT_ENV, maxDeliveryAttempts: 2 });
  });
  afterAll(() => stack.close());

  it('fails getIamPolicy within the request timeout; Pub/Sub delivers the event again', async () => {
    stack.gcp.putServiceAccount(SA);
    stack.gcp.setFaults({ hang: ['getIamPolicy'] });
    const deployment = apiDeployment({
      cloudProvider: 'GCP',
      clusterName: 'gcp-us-central1-prod',
      effectiveWorkloadIdentity: SA,
      oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/acme-gke/locations/us-central1/clusters/astro',
    });
    const delivery = await stack.publish({ webhookId: 'msg_hang_gcp', event: deploymentEvent(deployment) });
    expect(delivery).toEqual({ attempts: 2, delivered: false });
    expect(stack.deadLetters.map((m) => m.webhookId)).toContain('msg_hang_gcp');
    const reads = stack.gcp.calls.filter((c) => c.method === 'getIamPolicy');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads.every((c) => c.status === 0)).toBe(true);
    expect(stack.gcp.calls.filter((c) => c.method === 'setIamPolicy')).toHaveLength(0);
  });
});

describe('an ARM endpoint that never answers', () => {
  let stack: AzureStack;
  beforeAll(async () => {
    stack = await startAzureStack({ env: TIMEOUT_ENV, maxDequeueCount: 2 });
  });
  afterAll(() => stack.close());

  it('fails the credential list within the request timeout; the host delivers the message again', async () => {
    stack.seedIdentity('astro-hang');
    stack.azure.setFaults({ hang: ['list'] });
    const delivery = await stack.enqueue(queuedEvent(azureDeployment({}, 'astro-hang'), 'msg_hang_arm'));
    expect(delivery).toMatchObject({ attempts: 2, poisoned: true });
    expect(delivery.errors.every((e) => /retryable way/.test(e))).toBe(true);
    // An aborted attempt is not retried by the pipeline: one list per delivery, each cut at the timeout.
    expect(stack.azure.count('list')).toBe(2);
    expect(stack.azure.count('createOrUpdate')).toBe(0);
  });
});
