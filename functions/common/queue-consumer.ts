import type { Deadline } from '../../shared/deadline.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';
import { inlineSoftwareDeployment } from '../../shared/intake/software-deployment.ts';
import { intakeMetrics, type Metrics, noMetrics, record, reportMetrics } from '../../shared/report/metrics.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import type { RejectedEvent } from '../../shared/report/slack-message.ts';
import { type Delivered, lookupDeployments, type Rejected } from './deployment-lookup.ts';
import { stopSignal } from './invocation-deadline.ts';
import type { Logger } from './logger.ts';
import { runPipeline } from './pipeline.ts';
import { platformSource } from './platform-source.ts';
import type { Runtime } from './runtime.ts';

interface Consumed {
  readonly reports: readonly EventReport[];
  readonly rejected: readonly Rejected[];
  /** Message ids the platform should deliver again: the Astro API was down, or a target failed retryably. */
  readonly retry: ReadonlySet<string>;
}

/**
 * The consumer behind every queue (SQS, Pub/Sub, Storage queue) and the synchronous routes: Deployments from the
 * Astro API when configured, one pipeline run for the batch (N events on one target cost one write), one Slack message
 * for the batch (its events refused for good included), and the ids worth delivering again.
 */
/** A `software` section without a token: Software events are planned from their signed payload, settled by config. */
function inlineSoftware(runtime: Runtime<unknown>): ((deployment: Deployment) => Deployment) | undefined {
  const software = runtime.config.software;
  if (software === undefined || runtime.software !== undefined) return undefined;
  return (deployment) => inlineSoftwareDeployment(deployment, software);
}

export async function consumeQueued(
  runtime: Runtime<unknown>,
  delivered: readonly Delivered[],
  logger: Logger,
  options: {
    dryRun?: boolean;
    deadline?: Deadline;
    metrics?: Metrics;
    /** false: the caller (an HTTP flow) counted the event as received already. */
    received?: boolean;
  } = {},
): Promise<Consumed> {
  const { deadline, metrics = noMetrics } = options;
  // One stop for the whole invocation: the reads and the targets share the time the platform leaves.
  const signal = stopSignal(deadline);
  const { items, rejected, inUse } = await lookupDeployments(
    delivered,
    platformSource(runtime.astro, runtime.software),
    { signal, settleSoftware: inlineSoftware(runtime) },
  );
  const refused: RejectedEvent[] = [];
  for (const r of rejected) {
    const fields = { eventId: r.eventId, deploymentId: r.deploymentId, reason: r.error.message };
    if (r.error.retryable) {
      logger.warn('event deferred; it will be delivered again', fields);
      continue;
    }
    logger.error('event rejected', fields);
    // Refused for good: without this the platform team would never hear of it (the sender got a 2xx long ago).
    refused.push({ eventId: r.eventId, deploymentId: r.deploymentId, reason: r.error.message });
  }
  record(
    metrics,
    intakeMetrics({
      received: options.received === false ? 0 : delivered.length,
      accepted: items.length,
      rejected: rejected.filter((r) => !r.error.retryable).map((r) => r.reason ?? r.error.code),
    }),
  );
  // One failed read or list can refuse several events: counted once.
  const astroErrors = new Set(rejected.map((r) => r.error).filter((error) => error.code === 'astro_api'));
  if (astroErrors.size > 0) metrics.count('AstroApiErrors', astroErrors.size);
  const reports = await runPipeline(items, {
    batch: {
      ...runtime.batch({ dryRun: options.dryRun === true }),
      ...(inUse === undefined ? {} : { inUse }),
      ...(deadline === undefined ? {} : { deadline }),
      ...(signal === undefined ? {} : { signal }),
    },
    // One invocation: a Slack that failed once in it is not tried again until the next one.
    notifier: runtime.notifier.session(deadline, metrics),
    logger,
    rejected: refused,
  });
  record(metrics, reportMetrics(reports));
  // Reports come back in the order of the items, so the index ties each to its message (webhook ids may repeat).
  const retry = new Set([
    ...rejected.filter((r) => r.error.retryable).map((r) => r.messageId),
    ...reports.flatMap((report, index) =>
      report.results.some((r) => r.status === 'failed' && r.retryable) ? [items[index]?.messageId ?? ''] : [],
    ),
  ]);
  return { reports, rejected, retry };
}
