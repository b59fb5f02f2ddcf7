import { type BatchItem, type BatchOptions, processBatch } from '../../shared/reconcile/process-batch.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { reportHasFailures } from '../../shared/report/outcome.ts';
import type { SlackMessage } from '../../shared/report/slack-message.ts';

/** The logging surface the pipeline needs; Powertools Logger and the local console logger both fit it. */
export interface PipelineLogger {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}

export interface Notifier {
  notify(report: EventReport): Promise<{ posted: boolean; skipped?: string; error?: string }>;
  post(
    message: SlackMessage,
    context: Record<string, unknown>,
  ): Promise<{ posted: boolean; skipped?: string; error?: string }>;
}

export interface PipelineDeps {
  readonly batch: BatchOptions;
  readonly notifier: Notifier;
  readonly logger: PipelineLogger;
}

/**
 * One pipeline for every runtime: process the batch, log one line per event and target, then tell Slack. Slack comes
 * last and cannot fail the run: the cloud change is already made and verified, and retrying the event would only
 * repeat it.
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
        reason: r.reason,
      })),
    };
    if (reportHasFailures(report)) deps.logger.error('deployment reconciled with failures', summary);
    else deps.logger.info('deployment reconciled', summary);
    const sent = await deps.notifier.notify(report);
    if (sent.error !== undefined)
      deps.logger.warn('slack notification failed', { eventId: report.eventId, error: sent.error });
  }
  return reports;
}
