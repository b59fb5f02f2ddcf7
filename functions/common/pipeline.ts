import { type BatchItem, type BatchOptions, processBatch } from '../../shared/reconcile/process-batch.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { reportHasFailures } from '../../shared/report/outcome.ts';
import type { RejectedEvent } from '../../shared/report/slack-message.ts';
import type { Logger } from './logger.ts';
import type { SlackNotifier } from './slack-notifier.ts';

/** Where reports go; the Slack notifier (or its `off` mode) on every cloud. */
export type Notifier = SlackNotifier;

interface PipelineDeps {
  readonly batch: BatchOptions;
  readonly notifier: Notifier;
  readonly logger: Logger;
  /** Events of the same delivery refused for good before planning: told in the same Slack message. */
  readonly rejected?: readonly RejectedEvent[];
}

/**
 * One pipeline for every runtime: process the batch, log one line per event and target, then tell Slack, in one
 * message for the whole batch. Slack comes last and cannot fail the run: the cloud change is already made and
 * verified, and retrying the event would only repeat it.
 */
export async function runPipeline(items: readonly BatchItem[], deps: PipelineDeps): Promise<EventReport[]> {
  const reports = await processBatch(items, deps.batch);
  for (const report of reports) {
    const summary = {
      eventId: report.eventId,
      eventType: report.type,
      deploymentId: report.deployment.id,
      namespace: report.deployment.namespace,
      dryRun: report.dryRun,
      results: report.results.map((r) => ({
        cloud: r.cloud,
        target: r.target,
        status: r.status,
        added: r.added.length,
        removed: r.removed.length,
        reason: r.reason,
      })),
    };
    if (reportHasFailures(report)) deps.logger.error('deployment reconciled with failures', summary);
    else deps.logger.info('deployment reconciled', summary);
  }
  const sent = await deps.notifier.notifyBatch(reports, deps.rejected ?? []);
  if (sent.error !== undefined) {
    deps.logger.warn('slack notification failed', {
      eventIds: reports.map((report) => report.eventId),
      error: sent.error,
      ...(sent.kept ? { kept: true } : {}),
    });
  }
  return reports;
}
