import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAzureLogger, withInvocation } from '../../functions/azure/azure-logger.ts';
import { createLogMetrics } from '../../functions/common/log-metrics.ts';
import { invocationContext, type LogLine } from '../../local/azure-functions-http-server.ts';
import { type AzureStack, startAzureStack } from '../../local/azure-stack.ts';
import { record, reportMetrics } from '../../shared/report/metrics.ts';
import { azureDeployment, queuedEvent, sendWebhook } from '../support/azure-fixtures.ts';
import { capacityReport } from '../support/capacity-report.ts';

type Line = {
  message?: string;
  customMetric?: { name: string; value: number; unit: string; dimensions: Record<string, string> };
};
/** The custom metric lines among the invocation's log lines, as Application Insights stores them in traces. */
const metricLines = (logs: readonly LogLine[]) =>
  logs
    .filter((log) => log.text.startsWith('{'))
    .map((log) => ({ level: log.level, ...(JSON.parse(log.text) as Line) }))
    .filter((line) => line.message === 'customMetric');

describe('Azure metrics: one customMetric line per metric per invocation, through the invocation context', () => {
  let stack: AzureStack;
  let identity: string;
  let count = 0;
  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    count += 1;
    identity = `astro-metrics-${count}`;
    stack.seedIdentity(identity);
    stack.slack.reset();
    stack.logs.length = 0;
  });

  it('a grant: received, accepted, six credentials added, the identity converged', async () => {
    expect((await sendWebhook(stack, azureDeployment({}, identity))).status).toBe(200);
    const lines = metricLines(stack.logs);
    for (const line of lines) expect(line.level).toBe('information');
    expect(lines.map((line) => line.customMetric)).toEqual([
      { name: 'EventsReceived', value: 1, unit: 'Count', dimensions: {} },
      { name: 'EventsAccepted', value: 1, unit: 'Count', dimensions: {} },
      { name: 'GrantsAdded', value: 6, unit: 'Count', dimensions: {} },
      { name: 'TargetsConverged', value: 1, unit: 'Count', dimensions: {} },
      // Six credentials of Azure's 20 after the verify read.
      { name: 'CapacityUsedPercent', value: 30, unit: 'Percent', dimensions: {} },
    ]);
  });

  it('a failure: an identity outside the allowlist, by Retryable; a malformed queue message, by Reason', async () => {
    stack.seedIdentity('payments-id');
    expect((await sendWebhook(stack, azureDeployment({}, 'payments-id'))).status).toBe(422);
    expect(metricLines(stack.logs).map((line) => line.customMetric)).toContainEqual({
      name: 'Failures',
      value: 1,
      unit: 'Count',
      dimensions: { Retryable: 'false' },
    });
    stack.logs.length = 0;
    await stack.enqueueRaw('not json at all');
    expect(metricLines(stack.logs).map((line) => line.customMetric)).toEqual([
      { name: 'EventsReceived', value: 1, unit: 'Count', dimensions: {} },
      { name: 'EventsRejected', value: 1, unit: 'Count', dimensions: { Reason: 'malformed_message' } },
    ]);
    stack.logs.length = 0;
    await stack.enqueue(queuedEvent(azureDeployment({}, identity)));
    expect(metricLines(stack.logs).map((line) => line.customMetric)).toContainEqual({
      name: 'GrantsAdded',
      value: 6,
      unit: 'Count',
      dimensions: {},
    });
  });

  it('a capacity warning: the line the Azure logger writes for it, attached to its invocation', async () => {
    const logs: LogLine[] = [];
    const context = invocationContext('reconciler', { onLog: (line) => void logs.push(line) });
    await withInvocation(context, async () => {
      const metrics = createLogMetrics(createAzureLogger('INFO'), 'customMetric');
      record(metrics, reportMetrics([capacityReport('azure')]));
      metrics.flush();
    });
    const lines = metricLines(logs);
    expect(lines.map((line) => line.customMetric)).toEqual([
      { name: 'GrantsAdded', value: 1, unit: 'Count', dimensions: {} },
      { name: 'TargetsConverged', value: 1, unit: 'Count', dimensions: {} },
      { name: 'CapacityWarnings', value: 1, unit: 'Count', dimensions: {} },
      { name: 'CapacityUsedPercent', value: 85, unit: 'Percent', dimensions: {} },
    ]);
  });
});
