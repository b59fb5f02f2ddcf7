import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogMetrics } from '../../functions/common/log-metrics.ts';
import { createPinoLogger } from '../../functions/common/logger.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';
import { record, reportMetrics } from '../../shared/report/metrics.ts';
import { capacityReport } from '../support/capacity-report.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';

const SA = 'astro-data@acme-data.iam.gserviceaccount.com';
const gcpDeployment = (overrides: Record<string, unknown> = {}) =>
  apiDeployment({
    cloudProvider: 'GCP',
    clusterName: 'gcp-us-central1-prod',
    effectiveWorkloadIdentity: SA,
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/acme-gke/locations/us-central1/clusters/astro',
    ...overrides,
  });

type Line = {
  severity?: string;
  message?: string;
  metric?: { name: string; value: number; unit: string; dimensions: Record<string, string> };
};
/** The metric lines among the function's JSON lines, as Cloud Logging would store them in jsonPayload. */
const metricLines = (lines: readonly string[]) =>
  lines.map((line) => JSON.parse(line) as Line).filter((line) => line.message === 'metric');

describe('GCP metrics: one structured line per metric per invocation', () => {
  let stack: GcpStack;
  const lines: string[] = [];
  beforeAll(async () => {
    stack = await startGcpStack({ logLevel: 'INFO', onLogLine: (line) => void lines.push(line) });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.gcp.putServiceAccount(SA);
    stack.gcp.setFaults({});
    stack.slack.reset();
    lines.length = 0;
  });
  const send = (deployment: Record<string, unknown>) =>
    postSigned(stack.webhookUrl, stack.webhookSecret, JSON.stringify(deploymentEvent(deployment)));

  it('a grant: received, accepted, six members added, the service account converged', async () => {
    expect((await send(gcpDeployment())).status).toBe(200);
    const metrics = metricLines(lines);
    for (const line of metrics) expect(line.severity).toBe('INFO');
    expect(metrics.map((line) => line.metric)).toEqual([
      { name: 'EventsReceived', value: 1, unit: 'Count', dimensions: {} },
      { name: 'EventsAccepted', value: 1, unit: 'Count', dimensions: {} },
      { name: 'GrantsAdded', value: 6, unit: 'Count', dimensions: {} },
      { name: 'TargetsConverged', value: 1, unit: 'Count', dimensions: {} },
      // The policy's members after the verify read (the six just added) against Google's 1,500.
      { name: 'CapacityUsedPercent', value: 0.4, unit: 'Percent', dimensions: {} },
    ]);
  });

  it('a failure: a service account outside the allowlist, by Retryable; a forged signature, by Reason', async () => {
    const response = await send(
      gcpDeployment({ effectiveWorkloadIdentity: 'payments@other-project.iam.gserviceaccount.com' }),
    );
    expect(response.status).toBe(422);
    expect(metricLines(lines).map((line) => line.metric)).toContainEqual({
      name: 'Failures',
      value: 1,
      unit: 'Count',
      dimensions: { Retryable: 'false' },
    });
    lines.length = 0;
    const forged = await postSigned(stack.webhookUrl, 'whsec_bm90IHRoZSBzZWNyZXQgYXQgYWxsIQ==', '{}');
    expect(forged.status).toBe(401);
    expect(metricLines(lines).map((line) => line.metric)).toEqual([
      { name: 'EventsReceived', value: 1, unit: 'Count', dimensions: {} },
      { name: 'EventsRejected', value: 1, unit: 'Count', dimensions: { Reason: 'invalid_signature' } },
    ]);
  });

  it('a capacity warning: the line the GCP logger writes for it', () => {
    const written: string[] = [];
    const logger = createPinoLogger({
      level: 'INFO',
      cloud: 'gcp',
      destination: { write: (l) => void written.push(l) },
    });
    const metrics = createLogMetrics(logger, 'metric');
    record(metrics, reportMetrics([capacityReport('gcp')]));
    metrics.flush();
    const parsed = metricLines(written);
    expect(parsed.map((line) => line.metric)).toContainEqual({
      name: 'CapacityWarnings',
      value: 1,
      unit: 'Count',
      dimensions: {},
    });
    expect(parsed.find((line) => line.metric?.name === 'CapacityUsedPercent')).toMatchObject({
      severity: 'INFO',
      message: 'metric',
      metric: { name: 'CapacityUsedPercent', value: 85.6, unit: 'Percent', dimensions: {} },
    });
  });
});
