import { isIdentitySyncError } from '../errors.ts';
import type { RunSummary } from '../reconcile/sweep.ts';
import { usagePercent } from './capacity.ts';
import { type EventReport, FAILURE_STATUSES, type TargetResult } from './outcome.ts';

/**
 * The metrics port: numbers to alarm on, named the same on every cloud. The core only computes values from what the
 * pipeline already produces (reports, run summaries, intake answers); each cloud writes them in its own idiom (EMF on
 * Lambda, structured log lines on GCP and Azure), and the CLI and tests that do not care take `noMetrics`.
 */

export const COUNT_NAMES = [
  'EventsReceived',
  'EventsAccepted',
  'EventsRejected',
  'GrantsAdded',
  'TargetsConverged',
  'Failures',
  'DriftRepaired',
  'StaleEntries',
  'CapacityWarnings',
  'AstroApiErrors',
  'SlackDeliveryFailures',
] as const;

export type CountName = (typeof COUNT_NAMES)[number];

export type GaugeName = 'CapacityUsedPercent';

/** Every metric the functions write, on every cloud. */
export const METRIC_NAMES: readonly MetricName[] = [...COUNT_NAMES, 'CapacityUsedPercent'];

export type MetricName = CountName | GaugeName;

export type MetricUnit = 'Count' | 'Percent';

/** At most one dimension per metric: `Reason` on EventsRejected, `Retryable` on Failures. */
export type MetricDimensions = Readonly<Partial<Record<'Reason' | 'Retryable', string>>>;

export interface Metrics {
  count(name: CountName, value: number, dimensions?: MetricDimensions): void;
  /** A level, not a sum: an implementation keeps the maximum of an invocation. */
  gauge(name: GaugeName, value: number, unit: MetricUnit): void;
}

export const noMetrics: Metrics = { count: () => undefined, gauge: () => undefined };

export type MetricValue =
  | { readonly kind: 'count'; readonly name: CountName; readonly value: number; readonly dimensions?: MetricDimensions }
  | { readonly kind: 'gauge'; readonly name: GaugeName; readonly value: number; readonly unit: MetricUnit };

/**
 * Why an event went no further, as the intake answers it: the HTTP checks' error codes, a webhook-id already
 * handled, a queue message that is not an event, a Deployment the Astro API does not know, or another refusal of
 * the lookup (its error code).
 */
export type RejectReason =
  | 'invalid_signature'
  | 'unauthorized'
  | 'invalid_input'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'not_found'
  | 'duplicate'
  | 'malformed_message'
  | 'unknown_deployment'
  | (string & {});

export interface IntakeOutcome {
  /** Requests or queue messages this intake saw. */
  readonly received?: number;
  /** Handed on: published to the bus, or planned. */
  readonly accepted?: number;
  /** Refused for good, one reason each (an event that will be delivered again is neither). */
  readonly rejected?: readonly RejectReason[];
}

/** An intake's refusal of a client's mistake, by its error code; anything on our side or retryable is no rejection. */
export function rejectReason(error: unknown): RejectReason | undefined {
  return isIdentitySyncError(error) && !error.retryable && error.status < 500 ? error.code : undefined;
}

export function intakeMetrics(outcome: IntakeOutcome): MetricValue[] {
  const values: MetricValue[] = [];
  const count = (name: CountName, value: number, dimensions?: MetricDimensions) => {
    if (value > 0) values.push({ kind: 'count', name, value, ...(dimensions === undefined ? {} : { dimensions }) });
  };
  count('EventsReceived', outcome.received ?? 0);
  count('EventsAccepted', outcome.accepted ?? 0);
  const byReason = new Map<string, number>();
  for (const reason of outcome.rejected ?? []) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  for (const [reason, n] of [...byReason].sort(([a], [b]) => a.localeCompare(b))) {
    count('EventsRejected', n, { Reason: reason });
  }
  return values;
}

/**
 * What a set of per-target results says: entries granted, targets converged, failures by retryability, the fullest
 * target, and capacity warnings. Results of dry runs are left out: they change nothing, and the caller reads them.
 */
function resultMetrics(results: readonly TargetResult[]): MetricValue[] {
  let added = 0;
  let converged = 0;
  let warnings = 0;
  let maxPercent: number | undefined;
  const failures = { true: 0, false: 0 };
  for (const result of results) {
    if (result.status === 'granted') added += result.added.length;
    if (result.status === 'granted' || result.status === 'unchanged') converged += 1;
    if (FAILURE_STATUSES.has(result.status)) failures[result.retryable === true ? 'true' : 'false'] += 1;
    if (result.capacityWarning !== undefined) warnings += 1;
    const percent = result.usage === undefined ? undefined : usagePercent(result.usage);
    if (percent !== undefined) maxPercent = Math.max(maxPercent ?? 0, percent);
  }
  const values: MetricValue[] = [];
  const count = (name: CountName, value: number, dimensions?: MetricDimensions) => {
    if (value > 0) values.push({ kind: 'count', name, value, ...(dimensions === undefined ? {} : { dimensions }) });
  };
  count('GrantsAdded', added);
  count('TargetsConverged', converged);
  count('Failures', failures.false, { Retryable: 'false' });
  count('Failures', failures.true, { Retryable: 'true' });
  count('CapacityWarnings', warnings);
  if (maxPercent !== undefined)
    values.push({ kind: 'gauge', name: 'CapacityUsedPercent', value: maxPercent, unit: 'Percent' });
  return values;
}

export function reportMetrics(reports: readonly EventReport[]): MetricValue[] {
  return resultMetrics(reports.filter((report) => !report.dryRun).flatMap((report) => report.results));
}

/**
 * A poll or sweep: its reports and cleanup as above, plus the drift the sweep repaired (targets it had to grant
 * again) and the entries deleted Deployments left behind (removed by prune, or left stale).
 */
export function runSummaryMetrics(summary: RunSummary): MetricValue[] {
  const results = summary.reports.filter((report) => !report.dryRun).flatMap((report) => report.results);
  const values = resultMetrics([...results, ...summary.cleanup]);
  const repaired =
    summary.task === 'sweep' ? results.filter((r) => r.status === 'granted' && r.added.length > 0).length : 0;
  if (repaired > 0) values.push({ kind: 'count', name: 'DriftRepaired', value: repaired });
  const stale = summary.cleanup
    .filter((r) => r.status === 'stale' || r.status === 'revoked')
    .reduce((n, r) => n + r.removed.length, 0);
  if (stale > 0) values.push({ kind: 'count', name: 'StaleEntries', value: stale });
  return values;
}

export function record(metrics: Metrics, values: readonly MetricValue[]): void {
  for (const value of values) {
    if (value.kind === 'gauge') metrics.gauge(value.name, value.value, value.unit);
    else metrics.count(value.name, value.value, value.dimensions);
  }
}

/** The unit each metric is written with. */
export function unitOf(name: MetricName): MetricUnit {
  return name === 'CapacityUsedPercent' ? 'Percent' : 'Count';
}
