import type { EventReport, TargetResult } from './outcome.ts';
import { reportHasCapacityWarning, reportHasChanges, reportHasFailures } from './outcome.ts';
import type {
  SlackContextBlock,
  SlackHeaderBlock,
  SlackMessage,
  SlackMrkdwn,
  SlackNotifyPolicy,
  SlackSectionBlock,
} from './slack-blocks.ts';
import { clip, code, escapeSlack, mrkdwn, oneLine, plural, SLACK_LIMITS, truncateSlackText } from './slack-blocks.ts';
import {
  CLOUD_LABEL,
  countsLine,
  MAX_ID_CHARS,
  MAX_REASON_CHARS,
  NO_TARGETS_EMOJI,
  outcomeLine,
  STATUS,
  targetSectionText,
} from './target-section.ts';

/**
 * Slack Block Kit message for one processed event. Pure: no SDK types (the edges pass these objects to
 * `@slack/web-api` or `@slack/webhook`, whose `Block` type accepts any `{ type: string }`), no I/O, no clock, so the
 * same report always formats to the same message and tests can compare it byte for byte.
 */

/** Fixed blocks before the per-target sections: header, fields, summary context. */
const FIXED_BLOCKS = 3;
const MAX_FIELD_VALUE_CHARS = 300;
/** The plain-text fallback lists this many targets; Slack shows it in notifications, where brevity matters. */
const MAX_TEXT_TARGETS = 20;
const MAX_TEXT_CHARS = 3000;

function sortedResults(report: EventReport): TargetResult[] {
  // Array#sort is stable, so targets of equal severity keep the order the caller processed them in.
  return [...report.results].sort((a, b) => STATUS[a.status].rank - STATUS[b.status].rank);
}

function overallEmoji(results: readonly TargetResult[]): string {
  const first = results[0];
  return first === undefined ? NO_TARGETS_EMOJI : STATUS[first.status].emoji;
}

function workspaceLabel(report: EventReport): string {
  const { workspaceName, workspaceId } = report.deployment;
  if (workspaceName !== undefined && workspaceId !== undefined) {
    return `${escapeSlack(clip(workspaceName, MAX_FIELD_VALUE_CHARS))} (\`${code(clip(workspaceId, MAX_FIELD_VALUE_CHARS))}\`)`;
  }
  const either = workspaceName ?? workspaceId;
  return either === undefined ? '_unknown_' : escapeSlack(clip(either, MAX_FIELD_VALUE_CHARS));
}

function cloudLabel(report: EventReport): string {
  const { cloudProvider, clusterName } = report.deployment;
  const provider = cloudProvider === undefined ? '_unknown_' : escapeSlack(clip(cloudProvider, MAX_FIELD_VALUE_CHARS));
  return clusterName === undefined
    ? provider
    : `${provider} · ${escapeSlack(clip(clusterName, MAX_FIELD_VALUE_CHARS))}`;
}

function field(label: string, value: string): SlackMrkdwn {
  return mrkdwn(truncateSlackText(`*${label}*\n${value}`, SLACK_LIMITS.fieldText));
}

function inlineCode(value: string): string {
  return `\`${code(clip(value, MAX_FIELD_VALUE_CHARS))}\``;
}

function fallbackText(report: EventReport, results: readonly TargetResult[], emoji: string): string {
  const { deployment } = report;
  const first = `${emoji} ${oneLine(clip(deployment.name, MAX_ID_CHARS))} (${escapeSlack(
    clip(deployment.namespace, MAX_ID_CHARS),
  )}) ${report.type} [${escapeSlack(clip(report.eventId, MAX_ID_CHARS))}]${report.dryRun ? ' dry run' : ''}: ${countsLine(results)}`;
  const lines = results
    .slice(0, MAX_TEXT_TARGETS)
    .map(
      (result) =>
        `• ${STATUS[result.status].emoji} ${CLOUD_LABEL[result.cloud]} ${escapeSlack(clip(result.target, MAX_ID_CHARS))}: ${outcomeLine(result)}`,
    );
  if (results.length > MAX_TEXT_TARGETS) lines.push(`…and ${plural(results.length - MAX_TEXT_TARGETS, 'more target')}`);
  return truncateSlackText([first, ...lines].join('\n'), MAX_TEXT_CHARS);
}

/** One Block Kit message for one processed event; see the module comment for the guarantees. */
export function formatSlackMessage(report: EventReport): SlackMessage {
  const { deployment } = report;
  const results = sortedResults(report);
  const emoji = overallEmoji(results);
  const header: SlackHeaderBlock = {
    type: 'header',
    text: {
      type: 'plain_text',
      // Escaped like everything else from input: harmless in plain_text, and one rule is easier to audit.
      text: truncateSlackText(`${emoji} ${oneLine(deployment.name)}`, SLACK_LIMITS.headerText),
      emoji: true,
    },
  };
  const fields: SlackSectionBlock = {
    type: 'section',
    fields: [
      field('Namespace', inlineCode(deployment.namespace)),
      field('Workspace', workspaceLabel(report)),
      field('Cloud', cloudLabel(report)),
      field('Event', inlineCode(report.type)),
      field('Event id', inlineCode(report.eventId)),
      field('Deployment id', inlineCode(deployment.id)),
    ],
  };
  const summary = `${report.dryRun ? '*Dry run*, nothing written · ' : ''}${countsLine(results)}`;
  const context: SlackContextBlock = { type: 'context', elements: [mrkdwn(summary)] };

  const room = SLACK_LIMITS.blocks - FIXED_BLOCKS;
  // When targets overflow, one block is kept for the fold so the total never exceeds the limit.
  const shown = results.length <= room ? results : results.slice(0, room - 1);
  const rest = results.slice(shown.length);
  const sections: SlackSectionBlock[] =
    results.length === 0
      ? [{ type: 'section', text: mrkdwn('No targets matched this Deployment; nothing to authorize.') }]
      : onceEach(shown).map((result) => ({ type: 'section', text: mrkdwn(targetSectionText(result)) }));
  if (rest.length > 0) {
    sections.push({ type: 'section', text: mrkdwn(`…and ${plural(rest.length, 'more target')}: ${countsLine(rest)}`) });
  }
  return { text: fallbackText(report, results, emoji), blocks: [header, fields, context, ...sections] };
}

/**
 * Whether a report is worth a Slack message under `policy`. The default tells people about what changed and what
 * needs them; no-ops (already up to date) and dry-run plans only with `all`, so the channel is not noise.
 */
export function shouldNotify(report: EventReport, policy: SlackNotifyPolicy = 'changes-and-failures'): boolean {
  switch (policy) {
    case 'all':
      return true;
    case 'failures':
      return reportHasFailures(report) || reportHasCapacityWarning(report);
    case 'changes-and-failures':
      return reportHasFailures(report) || reportHasChanges(report);
  }
}

/** An event refused before any target was planned: who sent what, and why nothing happened. */
export interface RejectedEvent {
  readonly eventId: string;
  readonly deploymentId: string;
  readonly reason: string;
}

/** The Slack message for a refused event, so a signed webhook naming an unknown Deployment is never silent. */
export function formatRejectedEvent(event: RejectedEvent): SlackMessage {
  const reason = escapeSlack(clip(event.reason, MAX_REASON_CHARS));
  const text = `❌ astro-identity-sync refused an event for Deployment ${escapeSlack(event.deploymentId)}: ${reason}. Nothing was changed.`;
  return {
    text: truncateSlackText(text, MAX_TEXT_CHARS),
    blocks: [
      {
        type: 'section',
        text: mrkdwn(
          truncateSlackText(
            `❌ *Event refused* for Deployment ${inlineCode(event.deploymentId)}\n${reason}\nNothing was changed; check the sender and the Deployment id.`,
            SLACK_LIMITS.sectionText,
          ),
        ),
      },
      { type: 'context', elements: [mrkdwn(`event ${inlineCode(event.eventId)}`)] },
    ],
  };
}

/** A note belongs to the write, which primary and DR grants share: say it under the first result only. */
function onceEach(results: readonly TargetResult[]): TargetResult[] {
  const said = new Set<string>();
  return results.map((result) => {
    if (result.notes === undefined) return result;
    const notes = result.notes.filter((note) => !said.has(note));
    for (const note of notes) said.add(note);
    const { notes: _all, ...rest } = result;
    return notes.length === 0 ? rest : { ...rest, notes };
  });
}
