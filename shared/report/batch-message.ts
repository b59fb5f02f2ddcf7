import type { EventReport, TargetResult } from './outcome.ts';
import { reportHasFailures } from './outcome.ts';
import {
  clip,
  code,
  escapeSlack,
  mrkdwn,
  oneLine,
  plural,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  truncateSlackText,
} from './slack-blocks.ts';
import { formatRejectedEvent, formatSlackMessage, type RejectedEvent } from './slack-message.ts';
import {
  CLOUD_LABEL,
  capacityLine,
  countsLine,
  MAX_ID_CHARS,
  MAX_REASON_CHARS,
  outcomeLine,
  STATUS,
} from './target-section.ts';

/**
 * One Slack message for a batch of events (an SQS batch is up to ten): 1,000 events used to post 1,000 messages.
 * It still names every Deployment and every target result, one section per event, so nobody has to open the logs to
 * see what happened to theirs. A batch of one keeps the single-event message; a lone refusal keeps its own. Pure,
 * like the per-event message: the same reports always format to the same message.
 */

/** Header and summary context; one block is kept for the fold when events overflow. */
const FIXED_BLOCKS = 2;
const MAX_TEXT_CHARS = 3000;
const MAX_TEXT_EVENTS = 20;

function worst(results: readonly TargetResult[]): string {
  const ranked = [...results].sort((a, b) => STATUS[a.status].rank - STATUS[b.status].rank);
  const first = ranked[0];
  return first === undefined ? 'ℹ️' : STATUS[first.status].emoji;
}

function inline(value: string): string {
  return `\`${code(clip(value, MAX_ID_CHARS))}\``;
}

function reportTitle(report: EventReport): string {
  const { deployment } = report;
  return `${worst(report.results)} *${oneLine(clip(deployment.name, MAX_ID_CHARS))}* (${inline(
    deployment.namespace,
  )}) ${report.type}${report.dryRun ? ' · dry run' : ''} · event ${inline(report.eventId)}`;
}

function reportSection(report: EventReport): string {
  const lines = report.results.map((result) => {
    const line = `• ${STATUS[result.status].emoji} ${CLOUD_LABEL[result.cloud]} ${inline(result.target)}: ${outcomeLine(result)}`;
    const capacity = capacityLine(result);
    return capacity === '' ? line : `${line}\n    ${capacity}`;
  });
  if (lines.length === 0) lines.push('• No targets matched this Deployment; nothing to authorize.');
  return truncateSlackText([reportTitle(report), ...lines].join('\n'), SLACK_LIMITS.sectionText);
}

function rejectedSection(event: RejectedEvent): string {
  return truncateSlackText(
    `❌ *Event refused* for Deployment ${inline(event.deploymentId)} · event ${inline(event.eventId)}\n${escapeSlack(
      clip(event.reason, MAX_REASON_CHARS),
    )}\nNothing was changed; check the sender and the Deployment id.`,
    SLACK_LIMITS.sectionText,
  );
}

/** The message for a batch's reports worth telling and its events refused for good; undefined when there are none. */
export function formatBatchMessage(
  reports: readonly EventReport[],
  rejected: readonly RejectedEvent[] = [],
): SlackMessage | undefined {
  const [onlyReport] = reports;
  const [onlyRejected] = rejected;
  if (reports.length + rejected.length === 0) return undefined;
  if (reports.length === 1 && rejected.length === 0 && onlyReport !== undefined) return formatSlackMessage(onlyReport);
  if (reports.length === 0 && rejected.length === 1 && onlyRejected !== undefined) {
    return formatRejectedEvent(onlyRejected);
  }
  const results = reports.flatMap((report) => report.results);
  const failing = reports.filter(reportHasFailures).length + rejected.length;
  const events = reports.length + rejected.length;
  const title = `${failing > 0 ? '❌' : '✅'} astro-identity-sync: ${plural(events, 'Deployment event')}, ${failing} with problems`;
  const summary = [countsLine(results), rejected.length > 0 ? `${rejected.length} refused` : '']
    .filter((part) => part !== '')
    .join(' · ');
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncateSlackText(title, SLACK_LIMITS.headerText) } },
    { type: 'context', elements: [mrkdwn(truncateSlackText(summary, SLACK_LIMITS.sectionText))] },
  ];
  // Problems first, so they survive the fold of a very large batch.
  const ordered = [
    ...rejected.map(rejectedSection),
    ...reports.filter(reportHasFailures).map(reportSection),
    ...reports.filter((report) => !reportHasFailures(report)).map(reportSection),
  ];
  const room = SLACK_LIMITS.blocks - FIXED_BLOCKS;
  const shown = ordered.length <= room ? ordered : ordered.slice(0, room - 1);
  for (const text of shown) blocks.push({ type: 'section', text: mrkdwn(text) });
  if (shown.length < ordered.length) {
    blocks.push({ type: 'context', elements: [mrkdwn(`…and ${plural(ordered.length - shown.length, 'more event')}`)] });
  }
  const lines = [
    ...rejected.map(
      (event) => `❌ refused ${escapeSlack(event.deploymentId)}: ${escapeSlack(clip(event.reason, 200))}`,
    ),
    ...reports.map(
      (report) =>
        `${worst(report.results)} ${oneLine(clip(report.deployment.name, MAX_ID_CHARS))} (${escapeSlack(
          clip(report.deployment.namespace, MAX_ID_CHARS),
        )}): ${countsLine(report.results)}`,
    ),
  ];
  const more = lines.length > MAX_TEXT_EVENTS ? [`…and ${plural(lines.length - MAX_TEXT_EVENTS, 'more event')}`] : [];
  const text = truncateSlackText([title, ...lines.slice(0, MAX_TEXT_EVENTS), ...more].join('\n'), MAX_TEXT_CHARS);
  return { text, blocks };
}
