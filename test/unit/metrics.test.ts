import { describe, expect, it } from 'vitest';
import { createLogMetrics } from '../../functions/common/log-metrics.ts';
import type { LogFields, Logger } from '../../functions/common/logger.ts';
import { RequestRejectedError, UnavailableError, ValidationError } from '../../shared/errors.ts';
import type { RunSummary } from '../../shared/reconcile/sweep.ts';
import {
  intakeMetrics,
  type Metrics,
  type MetricValue,
  record,
  rejectReason,
  reportMetrics,
  runSummaryMetrics,
} from '../../shared/report/metrics.ts';
import { type EventReport, summarizeDeployment, type TargetResult } from '../../shared/report/outcome.ts';
import { makeDeployment, ROLE_ARN } from '../support/fixtures.ts';

const result = (overrides: Partial<TargetResult> & Pick<TargetResult, 'status'>): TargetResult => ({
  cloud: 'aws',
  target: ROLE_ARN,
  added: [],
  removed: [],
  present: [],
  ...overrides,
});
const report = (results: TargetResult[], dryRun = false): EventReport => ({
  eventId: 'msg_1',
  type: 'deployment.created',
  deployment: summarizeDeployment(makeDeployment()),
  dryRun,
  results,
});
const six = ['a', 'b', 'c', 'd', 'e', 'f'];
const warning = { percent: 85, threshold: 80, headroom: 0, remedies: ['raise the quota'] };
const count = (name: string, value: number, dimensions?: Record<string, string>) => ({
  kind: 'count',
  name,
  value,
  ...(dimensions === undefined ? {} : { dimensions }),
});
const gauge = (value: number) => ({ kind: 'gauge', name: 'CapacityUsedPercent', value, unit: 'Percent' });

describe('reportMetrics', () => {
  it.each<[string, EventReport[], unknown[]]>([
    ['nothing', [], []],
    [
      'a grant: entries added, the target converged, its use',
      [report([result({ status: 'granted', added: six, usage: { used: 1024, limit: 2048, unit: 'characters' } })])],
      [count('GrantsAdded', 6), count('TargetsConverged', 1), gauge(50)],
    ],
    [
      'an unchanged target converged without grants',
      [report([result({ status: 'unchanged', present: six })])],
      [count('TargetsConverged', 1)],
    ],
    [
      'failures by retryability, of every failure status',
      [
        report([
          result({ status: 'failed', retryable: true }),
          result({ status: 'failed', retryable: false }),
          result({ status: 'denied' }),
          result({ status: 'does-not-fit' }),
          result({ status: 'conflict' }),
          result({ status: 'blocked', added: ['a'] }),
        ]),
      ],
      [count('Failures', 5, { Retryable: 'false' }), count('Failures', 1, { Retryable: 'true' })],
    ],
    [
      'a capacity warning and the fullest target of the batch (one decimal)',
      [
        report([result({ status: 'granted', added: six, usage: { used: 17, limit: 20, unit: 'credentials' } })]),
        report([
          result({
            status: 'granted',
            added: ['x'],
            usage: { used: 1753, limit: 2048, unit: 'characters' },
            capacityWarning: warning,
          }),
        ]),
      ],
      [count('GrantsAdded', 7), count('TargetsConverged', 2), count('CapacityWarnings', 1), gauge(85.6)],
    ],
    [
      'a dry run counts nothing',
      [
        report(
          [result({ status: 'planned', added: six, usage: { used: 2000, limit: 2048, unit: 'characters' } })],
          true,
        ),
      ],
      [],
    ],
    [
      'revoked and stale results of a deletion are no grants',
      [report([result({ status: 'revoked', removed: six }), result({ status: 'stale', removed: six })])],
      [],
    ],
  ])('%s', (_what, reports, expected) => {
    expect(reportMetrics(reports)).toEqual(expected);
  });
});

describe('runSummaryMetrics', () => {
  const summary = (overrides: Partial<RunSummary>): RunSummary => ({
    runId: 'sweep-1',
    task: 'sweep',
    deployments: 1,
    reports: [],
    cleanup: [],
    invalid: [],
    ...overrides,
  });
  it.each<[string, RunSummary, unknown[]]>([
    [
      'a sweep that granted again repaired drift',
      summary({
        reports: [report([result({ status: 'granted', added: ['a'] }), result({ status: 'unchanged' })])],
      }),
      [count('GrantsAdded', 1), count('TargetsConverged', 2), count('DriftRepaired', 1)],
    ],
    [
      'a poll that granted a new Deployment repaired nothing',
      summary({ task: 'poll', reports: [report([result({ status: 'granted', added: six })])] }),
      [count('GrantsAdded', 6), count('TargetsConverged', 1)],
    ],
    [
      'cleanup: entries left stale or removed, and a cleanup that failed',
      summary({
        cleanup: [
          result({ status: 'stale', removed: six }),
          result({ status: 'revoked', removed: ['a', 'b'] }),
          result({ status: 'failed', retryable: true }),
        ],
      }),
      [count('Failures', 1, { Retryable: 'true' }), count('StaleEntries', 8)],
    ],
  ])('%s', (_what, input, expected) => {
    expect(runSummaryMetrics(input)).toEqual(expected);
  });
});

describe('intakeMetrics', () => {
  it.each<[string, Parameters<typeof intakeMetrics>[0], unknown[]]>([
    ['nothing', {}, []],
    ['a request received', { received: 1 }, [count('EventsReceived', 1)]],
    [
      'a batch: accepted, and rejected by reason (sorted, summed)',
      { received: 4, accepted: 1, rejected: ['unknown_deployment', 'duplicate', 'unknown_deployment'] },
      [
        count('EventsReceived', 4),
        count('EventsAccepted', 1),
        count('EventsRejected', 1, { Reason: 'duplicate' }),
        count('EventsRejected', 2, { Reason: 'unknown_deployment' }),
      ],
    ],
  ])('%s', (_what, outcome, expected) => {
    expect(intakeMetrics(outcome)).toEqual(expected);
  });

  it.each<[string, unknown, string | undefined]>([
    ['a bad signature', new RequestRejectedError('invalid_signature', 'no'), 'invalid_signature'],
    ['an invalid body', new ValidationError('bad'), 'invalid_input'],
    ['an oversized body', new RequestRejectedError('payload_too_large', 'big'), 'payload_too_large'],
    ['an outage (retried, not rejected)', new UnavailableError('later'), undefined],
    ['a broken setup (ours, not the caller’s)', new ValidationError('x', { code: 'invalid_config' }), undefined],
    ['anything else', new Error('boom'), undefined],
  ])('the reason for %s', (_what, error, reason) => {
    expect(rejectReason(error)).toBe(reason);
  });
});

describe('record and the log-line metrics', () => {
  function capture(): { logger: Logger; lines: Array<{ message: string; fields: LogFields | undefined }> } {
    const lines: Array<{ message: string; fields: LogFields | undefined }> = [];
    const logger: Logger = {
      debug: () => undefined,
      info: (message, fields) => void lines.push({ message, fields }),
      warn: () => undefined,
      error: () => undefined,
      child: () => logger,
    };
    return { logger, lines };
  }

  it('writes one line per metric and dimension when flushed: counts summed, the gauge its maximum', () => {
    const { logger, lines } = capture();
    const metrics = createLogMetrics(logger, 'metric');
    const values: MetricValue[] = [
      { kind: 'count', name: 'EventsReceived', value: 1 },
      { kind: 'count', name: 'EventsReceived', value: 2 },
      { kind: 'count', name: 'Failures', value: 1, dimensions: { Retryable: 'true' } },
      { kind: 'count', name: 'Failures', value: 1, dimensions: { Retryable: 'false' } },
      { kind: 'gauge', name: 'CapacityUsedPercent', value: 40, unit: 'Percent' },
      { kind: 'gauge', name: 'CapacityUsedPercent', value: 85.6, unit: 'Percent' },
    ];
    record(metrics, values);
    expect(lines).toEqual([]);
    metrics.flush();
    expect(lines).toEqual([
      { message: 'metric', fields: { metric: { name: 'EventsReceived', value: 3, unit: 'Count', dimensions: {} } } },
      {
        message: 'metric',
        fields: { metric: { name: 'Failures', value: 1, unit: 'Count', dimensions: { Retryable: 'true' } } },
      },
      {
        message: 'metric',
        fields: { metric: { name: 'Failures', value: 1, unit: 'Count', dimensions: { Retryable: 'false' } } },
      },
      {
        message: 'metric',
        fields: { metric: { name: 'CapacityUsedPercent', value: 85.6, unit: 'Percent', dimensions: {} } },
      },
    ]);
    metrics.flush();
    expect(lines).toHaveLength(4);
  });

  it('names the field for Application Insights on Azure', () => {
    const { logger, lines } = capture();
    const metrics: Metrics & { flush(): void } = createLogMetrics(logger, 'customMetric');
    metrics.count('SlackDeliveryFailures', 1);
    metrics.flush();
    expect(lines).toEqual([
      {
        message: 'customMetric',
        fields: { customMetric: { name: 'SlackDeliveryFailures', value: 1, unit: 'Count', dimensions: {} } },
      },
    ]);
  });
});
