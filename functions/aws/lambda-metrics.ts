import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import { type Metrics, noMetrics } from '../../shared/report/metrics.ts';
import { type Env, metricsSettings } from '../common/env-settings.ts';
import type { Logger } from '../common/logger.ts';

export const METRICS_NAMESPACE = 'AstroIdentitySync';

export type LambdaFunction = 'webhook' | 'reconciler' | 'manual' | 'scheduled';

/**
 * The metrics port on Lambda: Powertools Metrics, CloudWatch Embedded Metric Format on stdout, flushed once per
 * invocation by its middy middleware (`logMetrics`). Every metric carries the `service` dimension, the function's
 * name, which is what the Terraform alarms select on.
 */
export interface LambdaMetrics extends Metrics {
  /** The Powertools instance itself, for `logMetrics`. */
  readonly powertools: PowertoolsMetrics;
}

const EMPTY = /No application metrics to publish/;

/** Powertools' own warnings go to our log; "nothing to publish" is normal for an invocation that did nothing. */
function powertoolsLogger(logger: Logger) {
  const text = (parts: unknown[]) => parts.map(String).join(' ');
  return {
    debug: (...parts: unknown[]) => logger.debug(text(parts), { source: 'powertools-metrics' }),
    info: (...parts: unknown[]) => logger.info(text(parts), { source: 'powertools-metrics' }),
    warn: (...parts: unknown[]) =>
      (EMPTY.test(text(parts)) ? logger.debug : logger.warn)(text(parts), { source: 'powertools-metrics' }),
    error: (...parts: unknown[]) => logger.error(text(parts), { source: 'powertools-metrics' }),
  };
}

/**
 * `fn` names the function when Lambda does not (the local stack); in Lambda the service is AWS_LAMBDA_FUNCTION_NAME.
 * POWERTOOLS_METRICS_DISABLED (read from the explicit environment, as the library reads it from the process's)
 * turns the port into a no-op: the local stack sets it unless it is asked for metrics.
 */
export function createLambdaMetrics(env: Env, fn: LambdaFunction | undefined, logger: Logger): LambdaMetrics {
  const { disabled, functionName } = metricsSettings(env);
  const service = functionName ?? (fn === undefined ? 'astro-identity-sync' : `astro-identity-sync-${fn}`);
  const powertools = new PowertoolsMetrics({
    namespace: METRICS_NAMESPACE,
    serviceName: service,
    logger: powertoolsLogger(logger),
  });
  if (disabled) return { ...noMetrics, powertools };
  return {
    powertools,
    count(name, value, dimensions) {
      powertools.addMetric(name, MetricUnit.Count, value);
      const entries = Object.entries(dimensions ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
      if (entries.length === 0) return;
      // CloudWatch cannot sum a metric across a dimension's values for an alarm, so the total above is written
      // without it and this copy with it (its own EMF line: a dimension applies to every metric of a line).
      const single = powertools.singleMetric();
      for (const [key, dimension] of entries) single.addDimension(key, dimension);
      single.addMetric(name, MetricUnit.Count, value);
    },
    gauge(name, value, unit) {
      powertools.addMetric(name, MetricUnit[unit], value);
    },
  };
}
