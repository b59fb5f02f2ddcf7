import type { RunSummary } from '../reconcile/sweep.ts';
import { formatUsage } from './capacity.ts';
import { FAILURE_STATUSES, type TargetResult } from './outcome.ts';
import {
  escapeSlack,
  oneLine,
  plural,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  type SlackNotifyPolicy,
  truncateSlackText,
} from './slack-blocks.ts';
import { CLOUD_LABEL, capacityLine, drPrefix, entryNoun, kindLabel } from './target-section.ts';

const MAX_LINES = 200;
const CHANGE = new Set(['granted', 'revoked', 'stale']);

interface Line {
  readonly failure: boolean;
  /** Not a failure, but a person must act before one: a target near its limit (told even under `failures`). */
  readonly attention?: boolean;
  readonly text: string;
}

/** One line per result, with the kind and the DR part named as in the per-event message. */
function describe(result: TargetResult): string {
  const label = kindLabel(result);
  const where = `${CLOUD_LABEL[result.cloud]} \`${escapeSlack(result.target)}\`${label === undefined ? '' : ` _(${label})_`}`;
  const dr = drPrefix(result);
  const entry = entryNoun(result);
  switch (result.status) {
    case 'granted': {
      const capacity = capacityLine(result);
      return `${where}: ${dr}added ${plural(result.added.length, entry)}${capacity === '' ? '' : ` ${capacity}`}`;
    }
    case 'revoked':
      return `${where}: ${dr}removed ${plural(result.removed.length, entry)} (${escapeSlack(result.reason ?? '')})`;
    case 'stale':
      return `${where}: ${dr}${result.removed.length} stale (${escapeSlack(result.reason ?? '')}); prune is off`;
    default:
      return `${where}: ${dr}${result.status}: ${escapeSlack(result.reason ?? '')}`;
  }
}

/**
 * One Slack message per poll or sweep, with only what a person should look at: grants added, entries removed or left
 * stale, and failures. A converged run says nothing (unless the policy is `all`), so an hourly sweep of a quiet
 * organization never posts, and a busy one posts once instead of once per Deployment.
 */
export function formatRunSummary(
  summary: RunSummary,
  policy: SlackNotifyPolicy = 'changes-and-failures',
): SlackMessage | undefined {
  const lines: Line[] = [];
  for (const report of summary.reports) {
    for (const result of report.results) {
      const failure = FAILURE_STATUSES.has(result.status);
      if (failure || CHANGE.has(result.status)) {
        lines.push({
          failure,
          text: `${failure ? '❌' : '✅'} *${oneLine(report.deployment.name)}* (\`${report.deployment.namespace}\`) ${describe(result)}`,
        });
      }
    }
  }
  for (const result of summary.cleanup) {
    const failure = FAILURE_STATUSES.has(result.status);
    lines.push({ failure, text: `${failure ? '❌' : '🧹'} ${describe(result)}` });
  }
  for (const full of summary.aboveThreshold ?? []) {
    const label = kindLabel(full);
    const where = `${CLOUD_LABEL[full.cloud]} \`${escapeSlack(full.target)}\`${label === undefined ? '' : ` _(${label})_`}`;
    lines.push({
      failure: false,
      attention: true,
      text: `📈 ${where}: ${formatUsage(full.usage)}, at or above the ${summary.warnAtPercent ?? 80}% capacity threshold`,
    });
  }
  for (const invalid of summary.invalid) {
    lines.push({
      failure: true,
      text: `⚠️ Deployment \`${escapeSlack(invalid.id ?? 'unknown')}\` skipped: ${escapeSlack(invalid.reason)}`,
    });
  }
  const shown = policy === 'failures' ? lines.filter((line) => line.failure || line.attention === true) : lines;
  if (shown.length === 0 && policy !== 'all') return undefined;

  const failures = shown.filter((line) => line.failure).length;
  const full = shown.filter((line) => line.attention === true).length;
  const nearFull = full > 0 ? `, ${full} near capacity` : '';
  const title = `${failures > 0 ? '❌' : full > 0 ? '📈' : '✅'} astro-identity-sync ${summary.task}: ${summary.deployments} Deployment(s), ${shown.length - failures - full} change(s), ${failures} problem(s)${nearFull}`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncateSlackText(title, SLACK_LIMITS.headerText) } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: `run \`${escapeSlack(summary.runId)}\`` }] },
  ];
  // Failures first, then changes; sections are filled up to Slack's size limit and the rest is counted.
  const ordered = [...shown.filter((l) => l.failure), ...shown.filter((l) => !l.failure)].slice(0, MAX_LINES);
  let section = '';
  const flush = () => {
    if (section !== '') blocks.push({ type: 'section', text: { type: 'mrkdwn', text: section } });
    section = '';
  };
  for (const line of ordered) {
    if (blocks.length >= SLACK_LIMITS.blocks - 2) break;
    const text = truncateSlackText(line.text, 500);
    if (section.length + text.length + 1 > SLACK_LIMITS.sectionText) flush();
    section = section === '' ? text : `${section}\n${text}`;
  }
  flush();
  const listed = ordered.length;
  if (shown.length > listed || blocks.length >= SLACK_LIMITS.blocks - 1) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and more: ${shown.length} lines in all; see the function logs` }],
    });
  }
  return { text: title, blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
