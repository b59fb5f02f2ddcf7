import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLambdaLogger } from '../../functions/aws/lambda-logger.ts';
import { createLambdaMetrics } from '../../functions/aws/lambda-metrics.ts';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';
import { record, reportMetrics } from '../../shared/report/metrics.ts';
import { type EventReport, summarizeDeployment, type TargetResult } from '../../shared/report/outcome.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, deploymentEvent, postSigned } from '../support/deployments.ts';
import { makeDeployment, ROLE_ARN } from '../support/fixtures.ts';
import { runScheduled } from '../support/scheduled.ts';

/** One CloudWatch Embedded Metric Format document, as Lambda's log stream carries it. */
interface Emf {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: string[][];
      readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: string }>;
    }>;
  };
  readonly [key: string]: unknown;
}

/** Every EMF line written to stdout meanwhile (Powertools writes them with its own Console on process.stdout). */
function captureEmf(): { lines: Emf[]; restore(): void } {
  const lines: Emf[] = [];
  const original = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array, ...rest: never[]) => {
    for (const text of String(chunk).split('\n')) {
      if (!text.includes('"_aws"')) continue;
      lines.push(JSON.parse(text) as Emf);
    }
    return String(chunk).includes('"_aws"') ? true : original(chunk, ...rest);
  }) as typeof process.stdout.write);
  return { lines, restore: () => spy.mockRestore() };
}

/** The metrics of one function's lines: name -> value (summed when several lines carry it), dimensions included. */
function metricsOf(
  lines: readonly Emf[],
  service: string,
): Array<{ name: string; unit: string; value: unknown; dimensions: string[][]; extra: Record<string, unknown> }> {
  return lines
    .filter((line) => line.service === service)
    .flatMap((line) =>
      (line._aws.CloudWatchMetrics[0]?.Metrics ?? []).map((metric) => {
        const dimensions = line._aws.CloudWatchMetrics[0]?.Dimensions ?? [];
        const extra = Object.fromEntries((dimensions[0] ?? []).filter((d) => d !== 'service').map((d) => [d, line[d]]));
        return { name: metric.Name, unit: metric.Unit, value: line[metric.Name], dimensions, extra };
      }),
    );
}

const ORG = 'clorg0000000000000000000';
const config = `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
manual: { token: env:MANUAL_TOKEN }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam", notify: all }`;

describe('AWS metrics: EMF from the real Lambda handlers', () => {
  let stack: AwsStack;
  let emf: ReturnType<typeof captureEmf>;
  beforeAll(async () => {
    stack = await startAwsStack({ config, env: { POWERTOOLS_METRICS_DISABLED: 'false' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.setFaults({});
    stack.astro.setFaults({});
    stack.slack.reset();
    stack.slack.setDown(false);
    emf = captureEmf();
  });
  afterEach(() => emf.restore());

  const manual = (body: unknown) =>
    fetch(stack.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('a grant: the webhook accepted it, the reconciler added six subjects and converged the role', async () => {
    stack.astro.upsert(apiDeployment());
    const response = await postSigned(
      stack.webhookUrl,
      stack.webhookSecret,
      JSON.stringify(deploymentEvent(apiDeployment())),
    );
    expect(response.status).toBe(202);
    await stack.idle();

    for (const line of emf.lines) {
      expect(line._aws.CloudWatchMetrics).toHaveLength(1);
      expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('AstroIdentitySync');
      expect(typeof line._aws.Timestamp).toBe('number');
    }
    expect(metricsOf(emf.lines, 'astro-identity-sync-webhook')).toEqual([
      { name: 'EventsReceived', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'EventsAccepted', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
    ]);
    expect(metricsOf(emf.lines, 'astro-identity-sync-reconciler')).toEqual([
      { name: 'EventsReceived', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'EventsAccepted', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'GrantsAdded', unit: 'Count', value: 6, dimensions: [['service']], extra: {} },
      { name: 'TargetsConverged', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      // The role's use after the verify read, as IAM counts it: the minified trust policy against 2048.
      {
        name: 'CapacityUsedPercent',
        unit: 'Percent',
        value: Math.round((JSON.stringify(stack.aws.getTrustPolicy('astro-data')).length / 2048) * 1000) / 10,
        dimensions: [['service']],
        extra: {},
      },
    ]);
  });

  it('a failure: a denied role counts as a failure, in total and by Retryable, flushed once per invocation', async () => {
    const denied = apiDeployment({
      id: 'clq2denied00000000000000',
      effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ACCOUNT}:role/payments-admin`,
    });
    stack.astro.upsert(denied);
    const response = await manual({ deploymentId: denied.id });
    expect(response.status).toBe(422);
    const manualMetrics = metricsOf(emf.lines, 'astro-identity-sync-manual');
    expect(manualMetrics).toEqual([
      // The single-metric line, written as it is counted: a dimension applies to every metric of a line.
      {
        name: 'Failures',
        unit: 'Count',
        value: 1,
        dimensions: [['service', 'Retryable']],
        extra: { Retryable: 'false' },
      },
      // The invocation's line, flushed by logMetrics when the handler returns.
      { name: 'EventsReceived', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'EventsAccepted', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'Failures', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
    ]);
    expect(emf.lines.filter((line) => line.service === 'astro-identity-sync-manual')).toHaveLength(2);
  });

  it('a retryable failure, a Slack that does not answer and an intake refusal, each by its reason', async () => {
    stack.astro.upsert(apiDeployment({ id: 'clq2throttle000000000000', namespace: 'throttle-ns-1234' }));
    stack.aws.setFaults({ throttleRate: 1, actions: ['UpdateAssumeRolePolicy'] });
    stack.slack.setDown(true);
    expect((await manual({ deploymentId: 'clq2throttle000000000000' })).status).toBe(502);
    const forged = await postSigned(stack.webhookUrl, 'whsec_bm90IHRoZSBzZWNyZXQgYXQgYWxsIQ==', '{}');
    expect(forged.status).toBe(401);
    const unknown = await manual({ deploymentId: 'clq2unknown00000000000000' });
    expect(unknown.status).toBe(400);

    const byName = (service: string, name: string) =>
      metricsOf(emf.lines, service).filter((metric) => metric.name === name);
    expect(byName('astro-identity-sync-manual', 'Failures')).toEqual([
      {
        name: 'Failures',
        unit: 'Count',
        value: 1,
        dimensions: [['service', 'Retryable']],
        extra: { Retryable: 'true' },
      },
      { name: 'Failures', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
    ]);
    // Two invocations, one message each not delivered: the failed grant's report and the unknown Deployment's refusal.
    expect(byName('astro-identity-sync-manual', 'SlackDeliveryFailures')).toMatchObject([{ value: 1 }, { value: 1 }]);
    expect(byName('astro-identity-sync-webhook', 'EventsRejected')).toEqual([
      {
        name: 'EventsRejected',
        unit: 'Count',
        value: 1,
        dimensions: [['service', 'Reason']],
        extra: { Reason: 'invalid_signature' },
      },
      { name: 'EventsRejected', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
    ]);
    expect(byName('astro-identity-sync-manual', 'EventsRejected')).toContainEqual({
      name: 'EventsRejected',
      unit: 'Count',
      value: 1,
      dimensions: [['service', 'Reason']],
      extra: { Reason: 'unknown_deployment' },
    });
  });

  it('a capacity warning: a real grant that takes the role past 80% writes its use in Percent and counts the warning', async () => {
    // A person's statement makes the role about 39% full; the Deployment's new statement takes it past 80%.
    const padding = {
      Sid: 'PartnerAccess',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::210987654321:root' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'x'.repeat(560) } },
    };
    stack.aws.putRole('astro-data', { ...EC2_TRUST, Statement: [...EC2_TRUST.Statement, padding] });
    const full = apiDeployment({ id: 'clq2capacity000000000000', namespace: 'capacity-ns-1234' });
    stack.astro.upsert(full);
    const response = await manual({ deploymentId: full.id });
    expect(response.status).toBe(200);
    const [result] = ((await response.json()) as { results: TargetResult[] }).results;
    expect(result?.capacityWarning).toBeDefined();
    const percent = Math.round(((result?.usage?.used ?? 0) / 2048) * 1000) / 10;
    expect(percent).toBeGreaterThanOrEqual(80);
    const manualMetrics = metricsOf(emf.lines, 'astro-identity-sync-manual');
    expect(manualMetrics).toContainEqual({
      name: 'CapacityUsedPercent',
      unit: 'Percent',
      value: percent,
      dimensions: [['service']],
      extra: {},
    });
    expect(manualMetrics).toContainEqual({
      name: 'CapacityWarnings',
      unit: 'Count',
      value: 1,
      dimensions: [['service']],
      extra: {},
    });
  });

  it('an Astro API that does not answer is counted once', async () => {
    stack.astro.setFaults({ down: true });
    expect((await manual({ deploymentId: 'clq2outage000000000000000' })).status).toBe(503);
    const manualMetrics = metricsOf(emf.lines, 'astro-identity-sync-manual');
    expect(manualMetrics.filter((m) => m.name === 'AstroApiErrors')).toMatchObject([{ value: 1, unit: 'Count' }]);
    // Deferred, not refused: the caller retries with the same request.
    expect(manualMetrics.filter((m) => m.name === 'EventsRejected')).toEqual([]);
  });
});

describe('AWS metrics: capacity on the Powertools adapter', () => {
  it('writes the fullest target in Percent and counts the capacity warning, under logMetrics', async () => {
    const emf = captureEmf();
    try {
      const logger = createLambdaLogger('SILENT');
      const metrics = createLambdaMetrics({}, 'reconciler', logger);
      const report: EventReport = {
        eventId: 'msg_capacity',
        type: 'deployment.created',
        deployment: summarizeDeployment(makeDeployment()),
        dryRun: false,
        results: [
          {
            cloud: 'aws',
            target: ROLE_ARN,
            status: 'granted',
            added: ['system:serviceaccount:ns:ns-scheduler-serviceaccount'],
            removed: [],
            present: [],
            usage: { used: 1753, limit: 2048, unit: 'characters' },
            capacityWarning: { percent: 85.6, threshold: 80, headroom: 0, remedies: ['Raise quota L-C07B4B0D.'] },
          },
        ],
      };
      const handler = middy(async () => {
        record(metrics, reportMetrics([report]));
      }).use(logMetrics(metrics.powertools, { throwOnEmptyMetrics: false }));
      await handler({}, lambdaContext('astro-identity-sync-reconciler', 300_000));
      expect(emf.lines).toHaveLength(1);
      expect(emf.lines[0]?._aws.CloudWatchMetrics[0]).toEqual({
        Namespace: 'AstroIdentitySync',
        Dimensions: [['service']],
        Metrics: [
          { Name: 'GrantsAdded', Unit: 'Count' },
          { Name: 'TargetsConverged', Unit: 'Count' },
          { Name: 'CapacityWarnings', Unit: 'Count' },
          { Name: 'CapacityUsedPercent', Unit: 'Percent' },
        ],
      });
      expect(emf.lines[0]).toMatchObject({
        service: 'astro-identity-sync-reconciler',
        GrantsAdded: 1,
        TargetsConverged: 1,
        CapacityWarnings: 1,
        CapacityUsedPercent: 85.6,
      });
    } finally {
      emf.restore();
    }
  });

  it('writes nothing when POWERTOOLS_METRICS_DISABLED is set in the environment it is given', async () => {
    const emf = captureEmf();
    try {
      const metrics = createLambdaMetrics(
        { POWERTOOLS_METRICS_DISABLED: 'true' },
        'manual',
        createLambdaLogger('SILENT'),
      );
      const handler = middy(async () => metrics.count('GrantsAdded', 1)).use(
        logMetrics(metrics.powertools, { throwOnEmptyMetrics: false }),
      );
      await handler({}, lambdaContext('astro-identity-sync-manual', 120_000));
      expect(emf.lines).toEqual([]);
    } finally {
      emf.restore();
    }
  });
});

describe('AWS metrics: the scheduled sweep', () => {
  let stack: AwsStack;
  afterAll(() => stack.close());

  it('counts drift repaired and the stale entries of a deleted Deployment', async () => {
    stack = await startAwsStack({
      config: `astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG} }
aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
wildcard: { enabled: true }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }`,
    });
    const env = { POWERTOOLS_METRICS_DISABLED: 'false', AWS_LAMBDA_FUNCTION_NAME: 'astro-identity-sync-scheduled' };
    const deployment = (i: number) =>
      apiDeployment({
        id: `clq2sweep${String(i).padStart(16, '0')}`,
        name: `dep-${i}`,
        namespace: `sweep-ns-${String(i).padStart(4, '0')}`,
        effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-r${i % 20}`,
      });
    for (const role of ['astro-r1', 'astro-r2']) stack.aws.putRole(role, EC2_TRUST);
    for (const i of [1, 2, 21]) stack.astro.upsert(deployment(i));
    const emf = captureEmf();
    try {
      await runScheduled(stack, 'sweep', env);
      // Deployment 21 is deleted (its entry on astro-r1 is left: prune is off); astro-r2's grant is removed by hand.
      stack.astro.remove(deployment(21).id as string);
      stack.aws.putRole('astro-r2', EC2_TRUST);
      emf.lines.length = 0;
      await runScheduled(stack, 'sweep', env);
    } finally {
      emf.restore();
    }
    expect(metricsOf(emf.lines, 'astro-identity-sync-scheduled')).toEqual([
      { name: 'GrantsAdded', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'TargetsConverged', unit: 'Count', value: 2, dimensions: [['service']], extra: {} },
      {
        name: 'CapacityUsedPercent',
        unit: 'Percent',
        value: Math.round((JSON.stringify(stack.aws.getTrustPolicy('astro-r1')).length / 2048) * 1000) / 10,
        dimensions: [['service']],
        extra: {},
      },
      { name: 'DriftRepaired', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
      { name: 'StaleEntries', unit: 'Count', value: 1, dimensions: [['service']], extra: {} },
    ]);
  });
});
