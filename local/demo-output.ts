import type { SlackMessage } from '../shared/report/slack-blocks.ts';
import type { SlackEmulatorMessage } from './slack-emulator/server.ts';
import { renderSlackText } from './slack-text.ts';

const tty = process.stdout.isTTY === true;
export const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
export const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);
export const red = (s: string) => (tty ? `\x1b[31m${s}\x1b[0m` : s);
export const indent = (text: string, by = '    ') => text.replace(/^/gm, by);

export function showJson(label: string, value: unknown): void {
  console.log(`  ${label}:\n${indent(JSON.stringify(value, null, 2))}`);
}

/** What Slack received, as a person would read it. */
export function showSlack(message: SlackEmulatorMessage | undefined): void {
  if (message === undefined) {
    console.log(red('  Slack: no message'));
    return;
  }
  console.log(
    `  Slack (${message.channel ?? 'webhook'}):\n${indent(renderSlackText(message as unknown as SlackMessage))}`,
  );
}

export function verdict(ok: boolean, what: string): void {
  console.log(ok ? green(`  granted: ${what}`) : red(`  NOT granted: ${what}`));
}
