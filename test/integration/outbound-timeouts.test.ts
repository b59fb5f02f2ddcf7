import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../../functions/aws/reconciler-handler.ts';
import { azureCredential } from '../../functions/azure/msi-clients.ts';
import { readSettings } from '../../functions/common/env-settings.ts';
import { gcpAdapter } from '../../functions/gcp/gcp-adapter.ts';
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

/**
 * A local token endpoint that accepts every request and never answers, named to the SDK through the process
 * environment (the credential libraries read it there themselves: the one place these tests set process.env). The
 * variables are restored after the block, whatever happens.
 */
function hangingTokenEndpoint(env: (origin: string) => Record<string, string | undefined>) {
  let server: Server | undefined;
  let saved: Record<string, string | undefined> = {};
  const endpoint = { hits: 0 };
  beforeAll(async () => {
    const listening = createServer(() => {
      endpoint.hits += 1;
    });
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', () => resolve()));
    const values = env(`127.0.0.1:${(listening.address() as AddressInfo).port}`);
    saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterAll(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    server?.closeAllConnections();
    server?.close();
  });
  return endpoint;
}

describe('an Azure managed identity endpoint that never answers', () => {
  const endpoint = hangingTokenEndpoint((origin) => ({
    IDENTITY_ENDPOINT: `http://${origin}/msi/token`,
    IDENTITY_HEADER: 'local-identity-header',
  }));

  it('fails the token request within the request timeout instead of holding the invocation', async () => {
    const settings = readSettings({ ...TIMEOUT_ENV }, { requireConfig: false });
    const credential = azureCredential(settings)();
    const started = Date.now();
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow();
    expect(endpoint.hits).toBeGreaterThanOrEqual(1);
    // One attempt cut at 300 ms (the credential's own retries do not retry an abort); far from the host's timeout.
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 10_000);
});

describe('a Google metadata server that never answers', () => {
  const endpoint = hangingTokenEndpoint((origin) => ({
    GCE_METADATA_HOST: origin,
    METADATA_SERVER_DETECTION: 'assume-present',
    // Inside Google Cloud gcp-metadata asks for no timeout at all (outside it, 3 s).
    K_SERVICE: 'astro-identity-sync',
    GOOGLE_APPLICATION_CREDENTIALS: undefined,
  }));

  it('fails the token fetch within the request timeout instead of holding the invocation', async () => {
    const settings = readSettings({ ...TIMEOUT_ENV }, { requireConfig: false });
    const clients = gcpAdapter.clients(settings);
    const started = Date.now();
    await expect(clients.auth.getAccessToken()).rejects.toThrow();
    expect(endpoint.hits).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 10_000);
});
