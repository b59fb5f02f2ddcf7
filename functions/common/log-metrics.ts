import type { CountName, GaugeName, MetricDimensions, Metrics, MetricUnit } from '../../shared/report/metrics.ts';
import type { Logger } from './logger.ts';

/** A metric as one structured log line carries it: what a log-based metric or a log query aggregates. */
export interface MetricLine {
  readonly name: CountName | GaugeName;
  readonly value: number;
  readonly unit: MetricUnit;
  readonly dimensions: MetricDimensions;
}

/** The metrics of one invocation, written when it ends. */
export interface FlushableMetrics extends Metrics {
  flush(): void;
}

/**
 * The metrics port as log lines (GCP and Azure, which turn structured logs into metrics): one line per metric and
 * dimension per invocation, under `field` (`metric` for a Cloud Logging log-based metric on jsonPayload.metric,
 * `customMetric` for a Log Analytics query on Application Insights traces). Counts are summed and gauges keep their
 * maximum until `flush`, so a busy invocation writes a handful of lines, not one per target.
 */
export function createLogMetrics(logger: Logger, field: 'metric' | 'customMetric'): FlushableMetrics {
  const pending = new Map<string, MetricLine>();
  const add = (line: MetricLine, combine: (a: number, b: number) => number) => {
    const key = JSON.stringify([line.name, line.dimensions]);
    const before = pending.get(key);
    pending.set(key, before === undefined ? line : { ...line, value: combine(before.value, line.value) });
  };
  return {
    count(name, value, dimensions = {}) {
      add({ name, value, unit: 'Count', dimensions }, (a, b) => a + b);
    },
    gauge(name, value, unit) {
      add({ name, value, unit, dimensions: {} }, Math.max);
    },
    flush() {
      for (const line of pending.values()) logger.info(field, { [field]: line });
      pending.clear();
    },
  };
}
