/**
 * Block Kit shapes and the text rules every Slack message of this tool follows: Slack's documented limits, escaping
 * of input, truncation that never breaks an entity. Pure, no SDK types (the SDKs' `Block` accepts any `{type}`).
 */
export type SlackNotifyPolicy = 'changes-and-failures' | 'failures' | 'all';

interface SlackPlainText {
  readonly type: 'plain_text';
  readonly text: string;
  readonly emoji?: boolean;
}

export interface SlackMrkdwn {
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

/**
 * A name a person chose (a Deployment's), as one line of plain text inside mrkdwn: escaped, line breaks folded, and
 * the bold/strike/code markers swapped for look-alikes, so a name like "x\n*✅ all good*" cannot forge a line.
 */
export function oneLine(value: string): string {
  return escapeSlack(value)
    .replace(/[\r\n\t\u2028\u2029\u0085]+/g, ' ')
    .replace(/\*/g, '∗')
    .replace(/~/g, '∼')
    .replace(/`/g, 'ˋ');
}

/** Escaped and safe inside a code span or block: a backtick in input would otherwise end the code formatting. */
export function code(value: string): string {
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
export function clip(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function mrkdwn(text: string): SlackMrkdwn {
  return { type: 'mrkdwn', text, verbatim: true };
}
