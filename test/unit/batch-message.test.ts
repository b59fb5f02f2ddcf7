import { describe, expect, it } from 'vitest';
import { formatBatchMessage } from '../../shared/report/batch-message.ts';
import type { EventReport } from '../../shared/report/outcome.ts';
import { SLACK_LIMITS } from '../../shared/report/slack-blocks.ts';
import { formatRejectedEvent, formatSlackMessage } from '../../shared/report/slack-message.ts';

function report(i: number, status: 'granted' | 'failed' = 'granted', name = `etl-${i}`): EventReport {
  return {
    eventId: `evt-${i}`,
    type: 'deployment.created',
    deployment: { id: `dep${i}`, name, namespace: `ns-${i}` },
    dryRun: false,
    results: [
      {
        cloud: 'aws',
        target: `arn:aws:iam::123456789012:role/astro-${i}`,
        status,
        added: status === 'granted' ? ['system:serviceaccount:a:b'] : [],
        removed: [],
        present: [],
        ...(status === 'failed' ? { reason: 'IAM throttled', retryable: true } : {}),
      },
    ],
  };
}

describe('formatBatchMessage', () => {
  it('keeps the single-event message for a batch of one, and the refusal message for a lone refusal', () => {
    expect(formatBatchMessage([report(1)])).toEqual(formatSlackMessage(report(1)));
    const refused = { eventId: 'evt-9', deploymentId: 'dep9', reason: 'unknown Deployment' };
    expect(formatBatchMessage([], [refused])).toEqual(formatRejectedEvent(refused));
    expect(formatBatchMessage([])).toBeUndefined();
  });

  it('names every Deployment and target result of the batch, problems first', () => {
    const message = formatBatchMessage(
      [report(1), report(2, 'failed'), report(3)],
      [{ eventId: 'evt-4', deploymentId: 'dep4', reason: 'unknown Deployment' }],
    );
    const sections = (message?.blocks ?? []).filter((b) => b.type === 'section').map((b) => b.text?.text ?? '');
    expect(sections).toHaveLength(4);
    expect(sections[0]).toMatch(/Event refused.*dep4/s);
    expect(sections[1]).toMatch(/etl-2.*astro-2.*failed: IAM throttled/s);
    expect(sections.slice(2).join('\n')).toMatch(/etl-1.*astro-1.*added 1 subject/s);
    expect(message?.text).toMatch(/4 Deployment events, 2 with problems/);
  });

  it('stays within Slack limits for a batch larger than the block budget, and escapes names', () => {
    const many = Array.from({ length: 120 }, (_, i) => report(i, 'granted', i === 0 ? '<!channel> *x*' : `etl-${i}`));
    const message = formatBatchMessage(many);
    expect(message?.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(message?.blocks.at(-1)).toMatchObject({ type: 'context' });
    expect(JSON.stringify(message?.blocks.at(-1))).toMatch(/and 73 more events/);
  });
});
