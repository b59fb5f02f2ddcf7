import { formatUsage } from './capacity.ts';
import type { TargetResult, TargetStatus } from './outcome.ts';
import { clip, code, escapeSlack, plural, SLACK_LIMITS, truncateSlackText } from './slack-blocks.ts';

/**
 * One target's lines in a report: its status, what was added or taken back (in the target's own terms), remedies and
 * notes, each inside its share of Slack's section limit.
 */

/** Caps on single input values, so one long reason or id cannot starve the subject lists of their budget. */
export const MAX_ID_CHARS = 300;
export const MAX_REASON_CHARS = 1000;
const MAX_REMEDIES = 5;
const MAX_REMEDY_CHARS = 300;
const MAX_SUBJECT_CHARS = 300;
const MAX_NOTES = 3;
const MAX_NOTE_CHARS = 300;

interface StatusInfo {
  readonly emoji: string;
  /** Lower is more urgent: failures sort first so they survive folding and lead the message. */
  readonly rank: number;
  /** Plural-agnostic label used in counts ("2 failed", "1 up to date"). */
  readonly counted: string;
}

export const STATUS: Readonly<Record<TargetStatus, StatusInfo>> = {
  failed: { emoji: '❌', rank: 0, counted: 'failed' },
  blocked: { emoji: '🚫', rank: 1, counted: 'blocked by a Deny' },
  conflict: { emoji: '⚠️', rank: 2, counted: 'name conflict' },
  'does-not-fit': { emoji: '⚠️', rank: 3, counted: 'does not fit' },
  denied: { emoji: '⛔', rank: 4, counted: 'denied' },
  stale: { emoji: '🧹', rank: 5, counted: 'stale' },
  granted: { emoji: '✅', rank: 6, counted: 'granted' },
  revoked: { emoji: '🗑️', rank: 7, counted: 'cleaned up' },
  planned: { emoji: '🔍', rank: 8, counted: 'planned' },
  unchanged: { emoji: '➖', rank: 9, counted: 'up to date' },
};

const STATUS_ORDER = (Object.keys(STATUS) as TargetStatus[]).sort((a, b) => STATUS[a].rank - STATUS[b].rank);
export const NO_TARGETS_EMOJI = 'ℹ️';
export const CLOUD_LABEL: Readonly<Record<TargetResult['cloud'], string>> = { aws: 'AWS', gcp: 'GCP', azure: 'Azure' };

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

function notesText(notes: readonly string[] | undefined): string {
  if (notes === undefined || notes.length === 0) return '';
  return notes
    .slice(0, MAX_NOTES)
    .map((note) => `ℹ️ ${escapeSlack(clip(note, MAX_NOTE_CHARS))}`)
    .join('\n');
}

/** One line on a capacity warning, for the compact batch and run summaries; '' without a warning. */
export function capacityLine(result: TargetResult): string {
  const warning = result.capacityWarning;
  if (warning === undefined || result.usage === undefined) return '';
  const room =
    warning.headroom === undefined
      ? ''
      : warning.headroom === 0
        ? '; not one more Deployment of this shape fits'
        : `; about ${plural(warning.headroom, 'more Deployment')} of this shape fit`;
  return `📈 *Capacity:* ${formatUsage(result.usage)}, at or above the ${warning.threshold}% threshold${room}.`;
}

/** The capacity warning (see CapacityWarning): where the target stands, what still fits, what to do before it is full. */
export function capacityText(result: TargetResult): string {
  const warning = result.capacityWarning;
  const head = capacityLine(result);
  if (warning === undefined || head === '') return '';
  const shown = warning.remedies
    .slice(0, MAX_REMEDIES)
    .map((remedy) => `• ${escapeSlack(clip(remedy, MAX_REMEDY_CHARS))}`);
  return [head, '*Before it is full:*', ...shown].join('\n');
}

function reasonOf(result: TargetResult): string {
  return escapeSlack(clip(result.reason ?? 'no reason given', MAX_REASON_CHARS));
}

/** What one entry is called on each cloud: a trust-policy subject, a policy member, a federated credential. */
const ENTRY: Record<TargetResult['cloud'], string> = { aws: 'subject', gcp: 'member', azure: 'credential' };

/** Kinds whose entries are not their cloud's usual ones: a trusted role ARN, a role binding. */
const KIND_ENTRY: Partial<Record<NonNullable<TargetResult['kind']>, string>> = {
  'aws-role-principal': 'principal',
  'gcp-project': 'binding',
};

/** Said after the target's name for kinds a reader would otherwise mistake for the usual one. */
const KIND_LABEL: Partial<Record<NonNullable<TargetResult['kind']>, string>> = {
  'aws-role-principal': 'trusts the Astro identity',
  'gcp-service-account-token-creator': 'impersonation',
  'gcp-project': 'project roles',
};

/** The word for one entry of this result's target. */
export function entryNoun(result: Pick<TargetResult, 'cloud' | 'kind'>): string {
  return (result.kind === undefined ? undefined : KIND_ENTRY[result.kind]) ?? ENTRY[result.cloud];
}

/** `DR: ` for the part of a grant that trusts the secondary cluster, so primary and DR read apart. */
export function drPrefix(result: Pick<TargetResult, 'dr'>): string {
  return result.dr === true ? 'DR: ' : '';
}

/** The entries a result changed (or would change): what it added, or for a revoke what it took back. */
function changedEntries(result: TargetResult): readonly string[] {
  return result.removed.length > 0 ? result.removed : result.added;
}

/** The one-line outcome, shared by the section and the plain-text fallback. */
export function outcomeLine(result: TargetResult): string {
  return `${drPrefix(result)}${outcome(result)}`;
}

function outcome(result: TargetResult): string {
  const added = result.added.length;
  const removed = result.removed.length;
  const present = result.present.length;
  const entry = entryNoun(result);
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
    case 'blocked':
      // The rest of the grant is written (or, in a dry run, would be): listed below as in a grant.
      return `blocked: ${reasonOf(result)}${added > 0 ? `; ${plural(added, entry)} not blocked` : ''}`;
    case 'revoked':
      return `removed ${plural(removed, entry)} of the deleted Deployment`;
    case 'stale':
      return `${plural(removed, entry)} of the deleted Deployment remain (prune is off); remove them or enable prune`;
  }
}

/** What kind of grant this is, when it is not the cloud's usual one: `impersonation`, `project roles`, ... */
export function kindLabel(result: Pick<TargetResult, 'kind'>): string | undefined {
  return result.kind === undefined ? undefined : KIND_LABEL[result.kind];
}

function targetHead(result: TargetResult): string {
  const label = kindLabel(result);
  const suffix = label === undefined ? '' : ` _(${label})_`;
  return `${STATUS[result.status].emoji} *${CLOUD_LABEL[result.cloud]}* \`${code(clip(result.target, MAX_ID_CHARS))}\`${suffix}`;
}

export function targetSectionText(result: TargetResult): string {
  const limit = SLACK_LIMITS.sectionText;
  const writes = ['granted', 'planned', 'revoked', 'stale', 'blocked'].includes(result.status);
  const entries = changedEntries(result);
  const head = `${targetHead(result)}\n${outcomeLine(result)}${writes && entries.length > 0 ? ':' : ''}`;
  const remedies = remediesText(result.remedies);
  const notes = notesText(result.notes);
  const capacity = capacityText(result);
  const parts: string[] = [head];
  // Lists get what the fixed parts leave; each part costs its length plus the joining newline.
  let budget =
    limit -
    head.length -
    [remedies, notes, capacity].reduce((sum, part) => sum + (part === '' ? 0 : part.length + 1), 0);
  if (writes) {
    // Azure credentials are named objects a person may look for, so say which already existed; elsewhere a count.
    const listPresent = result.cloud === 'azure';
    const presentLabel =
      result.present.length === 0 ? '' : `_${plural(result.present.length, entryNoun(result))} already present_`;
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
  if (notes !== '') parts.push(notes);
  if (capacity !== '') parts.push(capacity);
  if (remedies !== '') parts.push(remedies);
  // Safety net only: the budgets above keep every part inside the limit.
  return truncateSlackText(parts.join('\n'), limit);
}

/** "3 targets: 1 failed, 2 granted (+5 subjects)" in severity order, or "no targets". */
export function countsLine(results: readonly TargetResult[]): string {
  if (results.length === 0) return 'no targets';
  const counts = STATUS_ORDER.flatMap((status) => {
    const matching = results.filter((result) => result.status === status);
    if (matching.length === 0) return [];
    const entries = matching.reduce((sum, result) => sum + changedEntries(result).length, 0);
    const nouns = new Set(matching.map(entryNoun));
    const [only] = nouns;
    const noun = nouns.size === 1 && only !== undefined ? only : 'grant';
    const suffix = (status === 'granted' || status === 'planned') && entries > 0 ? ` (+${plural(entries, noun)})` : '';
    return [`${matching.length} ${STATUS[status].counted}${suffix}`];
  });
  return `${plural(results.length, 'target')}: ${counts.join(', ')}`;
}
