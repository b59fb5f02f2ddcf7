import type { SlackBlock, SlackMessage } from '../shared/report/slack-blocks.ts';

/** Renders a Slack message for a terminal (the local stack's demo); kept out of the function bundles. */

function unescapeSlack(text: string): string {
  return text
    .replace(/\u2060/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function renderBlock(block: SlackBlock): string {
  switch (block.type) {
    case 'header': {
      const title = unescapeSlack(block.text.text);
      return `${title}\n${'='.repeat(Math.min(60, Math.max(3, title.length)))}`;
    }
    case 'section': {
      const fields = (block.fields ?? []).map((item) => item.text.replace('\n', ': '));
      return unescapeSlack([block.text?.text, ...fields].filter((part) => part !== undefined).join('\n'));
    }
    case 'context':
      return unescapeSlack(block.elements.map((element) => element.text).join(' | '));
    case 'divider':
      return '-'.repeat(40);
  }
}

/**
 * The message as a terminal would show it: one paragraph per block, entities decoded (a terminal is not Slack, so
 * `&lt;` would only confuse), mrkdwn markers kept because they are readable as they are.
 */
export function renderSlackText(message: SlackMessage): string {
  const paragraphs = message.blocks.map(renderBlock);
  return `${paragraphs.join('\n\n')}\n`;
}
