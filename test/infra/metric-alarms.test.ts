import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../functions/aws/lambda-metrics.ts';
import { azureHandlerDeps } from '../../functions/azure/handler-deps.ts';
import type { LogFields, Logger } from '../../functions/common/logger.ts';
import { gcpHandlerDeps } from '../../functions/gcp/handler-deps.ts';
import { AWS_FUNCTIONS } from '../../scripts/artifacts.ts';
import { METRIC_NAMES } from '../../shared/report/metrics.ts';
import { type Block, loadModule, MODULE_DIRS, type TfModule } from './terraform-files.ts';

/**
 * The optional alarms read the metrics the code writes: the same namespace, names, functions and line fields. Each
 * costs money, so each is off unless its variable turns it on.
 */

let aws: TfModule;
let gcp: TfModule;
let azure: TfModule;
beforeAll(async () => {
  [aws, gcp, azure] = await Promise.all([
    loadModule(MODULE_DIRS.aws),
    loadModule(MODULE_DIRS.gcp),
    loadModule(MODULE_DIRS.azure),
  ]);
});

/** The field a cloud's per-invocation metrics write each line under, captured from its handler deps. */
function lineField(metricsOf: (logger: Logger) => { count: (name: 'Failures', value: number) => void; flush(): void }) {
  const lines: Array<{ message: string; fields: LogFields | undefined }> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: (message, fields) => void lines.push({ message, fields }),
    warn: () => undefined,
    error: () => undefined,
    child: () => logger,
  };
  const metrics = metricsOf(logger);
  metrics.count('Failures', 1);
  metrics.flush();
  const [line] = lines;
  expect(Object.keys(line?.fields ?? {})).toEqual([line?.message]);
  return line?.message ?? '';
}

const toggle = (m: TfModule, name: string) => m.variables[name] as Block;
/** An HCL expression as hcl2json writes it: `${...}`. */
const ref = (expression: string) => ['$', '{', expression, '}'].join('');

describe.each([
  ['aws', () => aws, 'create_metric_alarms'],
  ['gcp', () => gcp, 'create_log_metrics'],
  ['azure', () => azure, 'create_metric_alerts'],
] as const)('%s: metric alarms', (_cloud, module, variable) => {
  it(`are off unless ${variable} is true`, () => {
    expect(toggle(module(), variable)).toMatchObject({ type: ref('bool'), default: false });
  });
});

describe('aws: CloudWatch alarms on the EMF metrics', () => {
  const alarms = () => aws.resources.aws_cloudwatch_metric_alarm ?? {};

  it('exist only with create_metric_alarms, and notify the alarm topic', () => {
    for (const name of ['failures', 'capacity']) {
      const alarm = alarms()[name] as Block;
      expect(alarm.count).toBe(ref('var.create_metric_alarms ? 1 : 0'));
      expect(alarm.alarm_actions).toBe(ref('local.alarm_topic_arns'));
    }
  });

  it('select the namespace, metric names and per-function service dimension the handlers write', () => {
    expect(aws.locals.metrics_namespace).toBe(METRICS_NAMESPACE);
    expect(aws.locals.metric_functions).toBe(
      ref(
        `var.create_metric_alarms ? ${JSON.stringify(AWS_FUNCTIONS.filter((f) => f !== 'webhook')).replaceAll(',', ', ')} : []`,
      ),
    );
    const expected = { failures: ['Failures', 'Sum', 300], capacity: ['CapacityUsedPercent', 'Maximum', 3600] };
    for (const [name, [metric, stat, period]] of Object.entries(expected)) {
      expect(METRIC_NAMES).toContain(metric);
      const dynamic = (alarms()[name] as { dynamic: { metric_query: Array<{ content: Array<{ metric: Block[] }> }> } })
        .dynamic.metric_query[0];
      expect(dynamic?.content[0]?.metric[0]).toEqual({
        namespace: ref('local.metrics_namespace'),
        metric_name: metric,
        // The adapter's service dimension is AWS_LAMBDA_FUNCTION_NAME: the function's name.
        dimensions: { service: ref('aws_lambda_function.this[metric_query.key].function_name') },
        period,
        stat,
      });
    }
    expect(alarms().capacity?.threshold).toBe(ref('var.capacity_alarm_percent'));
  });
});

describe('gcp: log-based metrics on the metric lines', () => {
  it('filter on the field the GCP functions write, by metric names the code has', () => {
    const field = lineField(gcpHandlerDeps({}).metrics);
    expect(field).toBe('metric');
    const logMetrics = String(gcp.locals.log_metrics);
    expect(logMetrics.startsWith(ref('var.create_log_metrics ? {').slice(0, -1))).toBe(true);
    const names = [...logMetrics.matchAll(/jsonPayload\.(\w+)\.name=\\"(\w+)\\"/g)];
    expect(names.map((m) => m[1])).toEqual(['metric', 'metric', 'metric']);
    expect(new Set(names.map((m) => m[2]))).toEqual(new Set(['Failures', 'CapacityUsedPercent']));
    for (const [, , name] of names) expect(METRIC_NAMES).toContain(name);
    expect(logMetrics).toContain(`jsonPayload.metric.value>=${ref('var.capacity_alert_percent')}`);
  });

  it('cover the three functions, and each has an alert policy notifying the given channels', () => {
    expect(String(gcp.locals.metric_source)).toContain('resource.labels.service_name');
    expect(gcp.locals.metric_functions).toEqual([
      ref('google_cloudfunctions2_function.http.name'),
      ref('google_cloudfunctions2_function.events.name'),
      ref('google_cloudfunctions2_function.schedule.name'),
    ]);
    expect(gcp.resources.google_logging_metric?.this?.for_each).toBe(ref('local.log_metrics'));
    const policy = gcp.resources.google_monitoring_alert_policy?.this as Block;
    expect(policy.for_each).toBe(ref('local.log_metrics'));
    expect(policy.notification_channels).toBe(ref('var.alert_notification_channels'));
    expect(JSON.stringify(policy.conditions)).toContain(
      `logging.googleapis.com/user/${ref('google_logging_metric.this[each.key].name')}`,
    );
  });
});

describe('azure: scheduled query alerts on the customMetric lines', () => {
  it('parse the field the Azure functions write, by metric names the code has', () => {
    const field = lineField(azureHandlerDeps({}).metrics);
    expect(field).toBe('customMetric');
    const lines = String(azure.locals.metric_lines);
    expect(lines).toContain(`parse_json(message)`);
    expect(lines).toContain(`line.${field}.name`);
    expect(lines).toContain(`line.${field}.value`);
    const alerts = String(azure.locals.metric_alerts);
    expect(alerts.startsWith(ref('var.create_metric_alerts ? {').slice(0, -1))).toBe(true);
    const names = [...alerts.matchAll(/where name == \\"(\w+)\\"/g)].map((m) => m[1]);
    expect(names).toEqual(['Failures', 'CapacityUsedPercent']);
    for (const name of names) expect(METRIC_NAMES).toContain(name);
  });

  it('watch Application Insights and notify the given action groups', () => {
    const rule = azure.resources.azurerm_monitor_scheduled_query_rules_alert_v2?.this as Block;
    expect(rule.for_each).toBe(ref('local.metric_alerts'));
    expect(rule.scopes).toEqual([ref('azurerm_application_insights.this.id')]);
    expect(JSON.stringify(rule.dynamic)).toContain('var.alert_action_group_ids');
  });
});
