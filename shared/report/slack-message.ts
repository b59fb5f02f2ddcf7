import type { EventReport, TargetResult, TargetStatus } from './outcome.ts';
import { reportHasChanges, reportHasFailures } from './outcome.ts';

/**
 * Slack Block Kit message for one processed event. Pure: no SDK types (the edges pass these objects to
 * `@slack/web-api` or `@slack/webhook`, whose `Block` type accepts any `{ type: string }`), no I/O, no clock, so the
 * same report always formats to the same message and tests can compare it byte for byte.
 */

export type SlackNotifyPolicy = 'changes-and-failures' | 'failures' | 'all';

interface SlackPlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

interface SlackMrkdwn {
  readonly type: 'mrkdwn';
  readonly text: string;
  /** `true` stops Slack from auto-linking plain words (channel names, URLs) that came from input. */
  readonly verbatim?: boolean;
}

export interface SlackHeaderBlock {
  readonly type: 'header';
  readonly text: SlackPlainText;
}

export interface SlackSectionBlock {
  readonly type: 'section';
  readonly text?: SlackMrkdwn;
  readonly fields?: SlackMrkdwn[];
}

export interface SlackContextBlock {
  readonly type: 'context';
  readonly elements: SlackMrkdwn[];
}

export interface SlackDividerBlock {
  readonly type: 'divider';
}

export type SlackBlock = SlackHeaderBlock | SlackSectionBlock | SlackContextBlock | SlackDividerBlock;

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** Slack's documented Block Kit limits; a message over any of them is refused with `invalid_blocks`. */
export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fieldText: 2000,
  fields: 10,
  contextElements: 10,
} as const;

/** Fixed blocks before the per-target sections: header, fields, summary context. */
const FIXED_BLOCKS = 3;
/** Caps on single input values, so one long reason or id cannot starve the subject lists of their budget. */
const MAX_ID_CHARS = 300;
const MAX_REASON_CHARS = 1000;
const MAX_REMEDIES = 5;
const MAX_REMEDY_CHARS = 300;
const MAX_SUBJECT_CHARS = 300;
const MAX_FIELD_VALUE_CHARS = 300;
/** The plain-text fallback lists this many targets; Slack shows it in notifications, where brevity matters. */
const MAX_TEXT_TARGETS = 20;
const MAX_TEXT_CHARS = 3000;

interface StatusInfo {
  readonly emoji: string;
  /** Lower is more urgent: failures sort first so they survive folding and lead the message. */
  readonly rank: number;
  /** Plural-agnostic label used in counts ("2 failed", "1 up to date"). */
  readonly counted: string;
}

const STATUS: Readonly<Record<TargetStatus, StatusInfo>> = {
  failed: { emoji: '❌', rank: 0, counted: 'failed' },
  conflict: { emoji: '⚠️', rank: 1, counted: 'name conflict' },
  'does-not-fit': { emoji: '⚠️', rank: 2, counted: 'does not fit' },
  denied: { emoji: '⛔', rank: 3, counted: 'denied' },
  stale: { emoji: '🧹', rank: 4, counted: 'stale' },
  granted: { emoji: '✅', rank: 5, counted: 'granted' },
  revoked: { emoji: '🗑️', rank: 6, counted: 'cleaned up' },
  planned: { emoji: '🔍', rank: 7, counted: 'planned' },
  unchanged: { emoji: '➖', rank: 8, counted: 'up to date' },
};

const STATUS_ORDER = (Object.keys(STATUS) as TargetStatus[]).sort((a, b) => STATUS[a].rank - STATUS[b].rank);
const NO_TARGETS_EMOJI = 'ℹ️';
const CLOUD_LABEL: Readonly<Record<TargetResult['cloud'], string>> = { aws: 'AWS', gcp: 'GCP', azure: 'Azure' };

/**
 * Makes an input value inert in Slack text: `&`, `<`, `>` are Slack's control characters (`<!channel>`, `<@U1>`,
 * `<http://x|y>`), so escaping them means a Deployment named `<!channel>` renders literally instead of pinging. The
 * bare words `@channel`/`@here`/`@everyone` are also broken with a word joiner (invisible) because Slack may
 * auto-parse them in the fallback `text`, which has no `verbatim` switch.
 */
export function escapeSlack(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

/** Escaped and safe inside a code span or block: a backtick in input would otherwise end the code formatting. */
function code(value: string): string {
  return escapeSlack(value).replace(/`/g, 'ˋ');
}

/**
 * Cuts already-escaped text to `max` characters (UTF-16 units, which never undercount Slack's characters), ending in
 * an ellipsis, without splitting an `&amp;`-style entity or a surrogate pair: either would render as garbage.
 */
export function truncateSlackText(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 1));
  const amp = cut.lastIndexOf('&');
  if (amp !== -1 && amp >= cut.length - 5 && !cut.slice(amp).includes(';')) cut = cut.slice(0, amp);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Truncates raw input before escaping so the cap counts what a reader sees. */
function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function mrkdwn(text: string): SlackMrkdwn {
  return { type: 'mrkdwn', text, verbatim: true };
}

/**
 * A code block listing `items`, or as many as fit in `budget` characters followed by "…and N more". Returns '' when
 * there is nothing to list.
 */
function codeList(items: readonly string[], budget: number): string {
  if (items.length === 0) return '';
  const lines = items.map((item) => code(clip(item, MAX_SUBJECT_CHARS)));
  const full = `\`\`\`\n${lines.join('\n')}\n\`\`\``;
  if (full.length <= budget) return full;
  // Reserve room for the longest possible "…and N more" so the greedy fill never overshoots.
  const reserve = `\n…and ${items.length} more`.length;
  const fence = '```\n\n```'.length;
  const shown: string[] = [];
  let used = fence + reserve;
  for (const line of lines) {
    const cost = line.length + (shown.length === 0 ? 0 : 1);
    if (used + cost > budget) break;
    shown.push(line);
    used += cost;
  }
  const more = `…and ${items.length - shown.length} more`;
  if (shown.length > 0) return `\`\`\`\n${shown.join('\n')}\n\`\`\`\n${more}`;
  // Nothing fits: the caller's label already gives the count, so say nothing rather than overflow.
  return more.length <= budget ? more : '';
}

function remediesText(remedies: readonly string[] | undefined): string {
  if (remedies === undefined || remedies.length === 0) return '';
  const shown = remedies.slice(0, MAX_REMEDIES).map((remedy) => `• ${escapeSlack(clip(remedy, MAX_REMEDY_CHARS))}`);
  const extra = remedies.length > MAX_REMEDIES ? [`…and ${remedies.length - MAX_REMEDIES} more`] : [];
  return ['*What to do:*', ...shown, ...extra].join('\n');
}

function reasonOf(result: TargetResult): string {
  return escapeSlack(clip(result.reason ?? 'no reason given', MAX_REASON_CHARS));
}

/** What one entry is called on each cloud: a trust-policy subject, a policy member, a federated credential. */
const ENTRY: Record<TargetResult['cloud'], string> = { aws: 'subject', gcp: 'member', azure: 'credential' };

/** The entries a result changed (or would change): what it added, or for a revoke what it took back. */
function changedEntries(result: TargetResult): readonly string[] {
  return result.removed.length > 0 ? result.removed : result.added;
}

/** The one-line outcome, shared by the section and the plain-text fallback. */
function outcomeLine(result: TargetResult): string {
  const added = result.added.length;
  const removed = result.removed.length;
  const present = result.present.length;
  const entry = ENTRY[result.cloud];
  switch (result.status) {
    case 'granted':
      return added > 0 ? `added ${plural(added, entry)}` : 'granted; nothing new to add';
    case 'planned':
      if (removed > 0) return `dry run: would remove ${plural(removed, entry)}`;
      return added > 0 ? `dry run: would add ${plural(added, entry)}` : 'dry run: already up to date';
    case 'unchanged':
      return present > 0 ? `already up to date (${plural(present, entry)} present)` : 'already up to date';
    case 'denied':
      return `denied: ${reasonOf(result)}`;
    case 'does-not-fit':
      return `does not fit: ${reasonOf(result)}`;
    case 'conflict':
      return `name conflict: ${reasonOf(result)}`;
    case 'failed':
      return `failed: ${reasonOf(result)}`;
    case 'revoked':
      return `removed ${plural(removed, entry)} of the deleted Deployment`;
    case 'stale':
      return `${plural(removed, entry)} of the deleted Deployment remain (prune is off); remove them or enable prune`;
  }
}

function targetHead(result: TargetResult): string {
  return `${STATUS[result.status].emoji} *${CLOUD_LABEL[result.cloud]}* \`${code(clip(result.target, MAX_ID_CHARS))}\``;
}

function targetSectionText(result: TargetResult): string {
  const limit = SLACK_LIMITS.sectionText;
  const writes = ['granted', 'planned', 'revoked', 'stale'].includes(result.status);
  const entries = changedEntries(result);
  const head = `${targetHead(result)}\n${outcomeLine(result)}${writes && entries.length > 0 ? ':' : ''}`;
  const remedies = remediesText(result.remedies);
  const parts: string[] = [head];
  // Lists get what the fixed parts leave; each part costs its length plus the joining newline.
  let budget = limit - head.length - (remedies === '' ? 0 : remedies.length + 1);
  if (writes) {
    // Azure credentials are named objects a person may look for, so say which already existed; elsewhere a count.
    const listPresent = result.cloud === 'azure';
    const presentLabel =
      result.present.length === 0 ? '' : `_${plural(result.present.length, ENTRY[result.cloud])} already present_`;
    // What was added matters most, but on Azure up to a third of the room is kept for the existing credentials.
    const presentRoom =
      presentLabel === ''
        ? 0
        : presentLabel.length +
          1 +
          (listPresent ? Math.min(codeList(result.present, budget).length + 2, Math.floor(budget / 3)) : 0);
    const added = codeList(entries, budget - presentRoom - 1);
    if (added !== '') {
      parts.push(added);
      budget -= added.length + 1;
    }
    if (presentLabel !== '') {
      const existing = listPresent ? codeList(result.present, budget - presentLabel.length - 3) : '';
      parts.push(existing === '' ? presentLabel : `${presentLabel}:\n${existing}`);
    }
  }
  if (remedies !== '') parts.push(remedies);
  // Safety net only: the budgets above keep every part inside the limit.
  return truncateSlackText(parts.join('\n'), limit);
}

/** "3 targets: 1 failed, 2 granted (+5 subjects)" in severity order, or "no targets". */
function countsLine(results: readonly TargetResult[]): string {
  if (results.length === 0) return 'no targets';
  const counts = STATUS_ORDER.flatMap((status) => {
    const matching = results.filter((result) => result.status === status);
    if (matching.length === 0) return [];
    const entries = matching.reduce((sum, result) => sum + changedEntries(result).length, 0);
    const clouds = new Set(matching.map((result) => result.cloud));
    const [only] = clouds;
    const noun = clouds.size === 1 && only !== undefined ? ENTRY[only] : 'grant';
    const suffix = (status === 'granted' || status === 'planned') && entries > 0 ? ` (+${plural(entries, noun)})` : '';
    return [`${matching.length} ${STATUS[status].counted}${suffix}`];
  });
  return `${plural(results.length, 'target')}: ${counts.join(', ')}`;
}

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
  const first = `${emoji} ${escapeSlack(clip(deployment.name, MAX_ID_CHARS))} (${escapeSlack(
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
      text: truncateSlackText(`${emoji} ${escapeSlack(deployment.name)}`, SLACK_LIMITS.headerText),
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
      : shown.map((result) => ({ type: 'section', text: mrkdwn(targetSectionText(result)) }));
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
      return reportHasFailures(report);
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
