import type { Deadline } from '../../shared/deadline.ts';
import { isIdentitySyncError, ValidationError } from '../../shared/errors.ts';
import type { ScheduledTask } from '../../shared/intake/queue-envelopes.ts';
import type { StaleMarks } from '../../shared/reconcile/stale-marks.ts';
import { type DeploymentLister, type RunSummary, runPoll, runSweep } from '../../shared/reconcile/sweep.ts';
import { type Metrics, noMetrics, record, runSummaryMetrics } from '../../shared/report/metrics.ts';
import { formatRunSummary } from '../../shared/report/run-summary-message.ts';
import { escapeSlack, type SlackMessage } from '../../shared/report/slack-blocks.ts';
import { stopSignal } from './invocation-deadline.ts';
import { type LastSummaryStore, QUIET_FINGERPRINT, summaryFingerprint } from './last-summary.ts';
import type { Logger } from './logger.ts';
import type { Notifier } from './pipeline.ts';
import type { Runtime } from './runtime.ts';

export type { ScheduledTask } from '../../shared/intake/queue-envelopes.ts';

/**
 * The scheduled side, the same on every cloud: the poller (every 5 minutes) picks up Deployments nobody announced,
 * the sweep (hourly) repairs drift and finds what deleted Deployments left behind. One Slack summary per run, only
 * when there is something to look at, and not again while it says the same as the last one.
 */
export async function runScheduledTask(
  runtime: Runtime<unknown>,
  task: ScheduledTask,
  logger: Logger,
  now: Date = new Date(),
  deadline?: Deadline,
  staleMarks?: StaleMarks,
  metrics: Metrics = noMetrics,
): Promise<RunSummary> {
  const { astro, software } = runtime;
  const settings = runtime.config.astro;
  const hosted = astro === undefined || settings === undefined ? undefined : { astro, settings };
  if (hosted === undefined && software === undefined) {
    throw new ValidationError(
      'the poller and the sweep need a platform API: add the "astro" section (Astro Hosted) or software.token (Astronomer Software) to the config',
      { code: 'invalid_config' },
    );
  }
  const runId = `${task}-${now.toISOString()}`;
  // Targets not reached before the deadline are reported failed (retryable); the next run catches up.
  const signal = stopSignal(deadline);
  const lister: DeploymentLister = {
    // The poll asks the API for the scope only; the sweep lists the whole organization so that a namespace still used
    // outside the scope is never taken for stale. Both platforms are one list: a target may serve both, and only
    // what both call complete may be judged stale.
    list: async ({ updatedSince }) => {
      const lists = await Promise.all([
        hosted?.astro.list(hosted.settings.organizationId, {
          ...(task === 'poll' && hosted.settings.workspaceIds
            ? { workspaceIds: [...hosted.settings.workspaceIds] }
            : {}),
          ...(updatedSince ? { updatedSince } : {}),
          signal,
        }),
        software?.list({ signal }),
      ]);
      const present = lists.filter((list) => list !== undefined);
      return {
        deployments: present.flatMap((list) => list.deployments),
        invalid: present.flatMap((list) => list.invalid),
        complete: present.every((list) => list.complete === true),
      };
    },
  };
  const batch = {
    ...runtime.batch(),
    ...(deadline === undefined ? {} : { deadline }),
    ...(signal === undefined ? {} : { signal }),
    ...(staleMarks === undefined ? {} : { staleMarks }),
  };
  // One invocation: a Slack that failed once in it is not tried again until the next one.
  const notifier = runtime.notifier.session(deadline, metrics);
  let summary: RunSummary;
  try {
    summary =
      task === 'poll'
        ? await runPoll({ lister, batch, now, runId })
        : await runSweep({
            lister,
            batch,
            runId,
            workspaceIds: settings?.workspaceIds,
            softwareWorkspaceIds: runtime.config.software?.workspaceIds,
          });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.error(`${task} failed; nothing was changed and the next run catches up`, { runId, reason });
    if (isIdentitySyncError(error) && error.code === 'astro_api') metrics.count('AstroApiErrors', 1);
    // The hourly sweep tells Slack; the 5-minute poll only logs, so an outage does not flood the channel.
    if (task === 'sweep') await notifier.post(outageMessage(runId, reason), { runId });
    throw error;
  }
  const counts = summary.reports
    .flatMap((r) => r.results)
    .reduce<Record<string, number>>((acc, r) => {
      acc[r.status] = (acc[r.status] ?? 0) + 1;
      return acc;
    }, {});
  record(metrics, runSummaryMetrics(summary));
  logger.info(`${task} finished`, {
    runId,
    deployments: summary.deployments,
    results: counts,
    cleanup: summary.cleanup.length,
    invalid: summary.invalid.length,
  });
  const message = formatRunSummary(
    summary,
    runtime.config.slack.mode === 'off' ? 'changes-and-failures' : runtime.config.slack.notify,
  );
  await tellOnce(runtime.summaries, task, message, runId, notifier, logger);
  return summary;
}

/**
 * Posts a summary unless the last one told for this task had the same content (the hourly sweep would otherwise
 * repeat the same problems every hour). A store that cannot be read or written never silences a summary.
 */
async function tellOnce(
  store: LastSummaryStore,
  task: ScheduledTask,
  message: SlackMessage | undefined,
  runId: string,
  notifier: Notifier,
  logger: Logger,
): Promise<void> {
  const fingerprint = message === undefined ? QUIET_FINGERPRINT : summaryFingerprint(message, runId);
  const last = await store.get(task).catch((error: unknown) => {
    logger.warn('could not read the last summary; posting', { runId, error: String(error) });
    return undefined;
  });
  if (message !== undefined && last === fingerprint) {
    logger.info(`${task} summary unchanged since the last one told; not posted again`, { runId });
    return;
  }
  if (message !== undefined) {
    const sent = await notifier.post(message, { runId });
    // Only a summary Slack has (or will get from the outbox) counts as told.
    if (!sent.posted && sent.kept !== true) return;
  }
  if (last === fingerprint) return;
  await store.set(task, fingerprint).catch((error: unknown) => {
    logger.warn('could not keep the last summary; the next unchanged one is posted again', {
      runId,
      error: String(error),
    });
  });
}

function outageMessage(runId: string, reason: string): SlackMessage {
  const text = `❌ astro-identity-sync sweep could not run: ${escapeSlack(reason)}. Nothing was changed; the next run catches up.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 2900) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `run \`${runId}\`` }] },
    ],
  };
}
