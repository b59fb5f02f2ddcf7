import { describe, expect, it } from 'vitest';
import { blocksProblem } from '../../local/slack-emulator/block-limits.ts';
import { renderSlackText } from '../../local/slack-text.ts';
import type { EventReport, TargetResult, TargetStatus } from '../../shared/report/outcome.ts';
import { formatRunSummary } from '../../shared/report/run-summary-message.ts';
import {
  escapeSlack,
  type SlackBlock,
  type SlackMessage,
  type SlackNotifyPolicy,
  truncateSlackText,
} from '../../shared/report/slack-blocks.ts';
import { formatRejectedEvent, formatSlackMessage, shouldNotify } from '../../shared/report/slack-message.ts';

const NS = 'quasarian-nebula-1234';
const ROLE = 'arn:aws:iam::123456789012:role/airflow-tasks';
const subject = (sa: string) => `system:serviceaccount:${NS}:${NS}-${sa}`;

function result(overrides: Partial<TargetResult> & Pick<TargetResult, 'status'>): TargetResult {
  return { cloud: 'aws', target: ROLE, added: [], removed: [], present: [], ...overrides };
}

function report(results: TargetResult[], overrides: Partial<EventReport> = {}): EventReport {
  return {
    eventId: 'msg_2abc',
    type: 'deployment.created',
    deployment: {
      id: 'clx1dep',
      name: 'etl-prod',
      namespace: NS,
      workspaceId: 'clx1ws',
      workspaceName: 'Data Platform',
      clusterName: 'prod-us-east-1',
      cloudProvider: 'AWS',
    },
    dryRun: false,
    results,
    ...overrides,
  };
}

function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block) => (block.type === 'section' && block.text ? [block.text.text] : []));
}

function allText(message: SlackMessage): string {
  return JSON.stringify(message);
}

function headerText(blocks: SlackBlock[]): string {
  const header = blocks[0];
  if (header?.type !== 'header') throw new Error('first block is not a header');
  return header.text.text;
}

describe('formatSlackMessage: one section per target status', () => {
  const cases: Array<{ name: string; result: TargetResult; emoji: string; expected: string[] }> = [
    {
      name: 'granted with new subjects',
      result: result({ status: 'granted', added: [subject('worker-serviceaccount'), subject('kpo')] }),
      emoji: '✅',
      expected: ['*AWS* `arn:aws:iam::123456789012:role/airflow-tasks`', 'added 2 subjects:', '```\n'],
    },
    {
      name: 'granted, nothing new',
      result: result({ status: 'granted', present: [subject('kpo')] }),
      emoji: '✅',
      expected: ['granted; nothing new to add', '_1 subject already present_'],
    },
    {
      name: 'azure granted lists the credentials that already existed',
      result: result({
        cloud: 'azure',
        target: '00000000-0000-0000-0000-000000000000/rg/mi-airflow',
        status: 'granted',
        added: ['ns-scheduler'],
        present: ['ns-worker'],
      }),
      emoji: '✅',
      expected: ['*Azure*', 'added 1 credential:', '_1 credential already present_:\n```\n', 'ns-worker'],
    },
    {
      name: 'planned (dry run)',
      result: result({ status: 'planned', added: [subject('kpo'), subject('worker-serviceaccount')] }),
      emoji: '🔍',
      expected: ['dry run: would add 2 subjects:', subject('kpo')],
    },
    {
      name: 'unchanged',
      result: result({ status: 'unchanged', present: [subject('kpo'), subject('worker-serviceaccount')] }),
      emoji: '➖',
      expected: ['already up to date (2 subjects present)'],
    },
    {
      name: 'denied',
      result: result({ status: 'denied', reason: `${ROLE} is not in aws.allowedRoles` }),
      emoji: '⛔',
      expected: [`denied: ${ROLE} is not in aws.allowedRoles`],
    },
    {
      name: 'does not fit, with remedies',
      result: result({
        status: 'does-not-fit',
        reason: 'trust policy would be 2311 characters; quota is 2048',
        remedies: ['raise quota L-C07B4B0D', 'use a namespace wildcard'],
      }),
      emoji: '⚠️',
      expected: [
        'does not fit: trust policy would be 2311',
        '*What to do:*\n• raise quota L-C07B4B0D\n• use a namespace',
      ],
    },
    {
      name: 'name conflict',
      result: result({ cloud: 'gcp', target: 'sa@p.iam.gserviceaccount.com', status: 'conflict', reason: 'taken' }),
      emoji: '⚠️',
      expected: ['*GCP* `sa@p.iam.gserviceaccount.com`', 'name conflict: taken'],
    },
    {
      name: 'failed without a reason',
      result: result({ status: 'failed' }),
      emoji: '❌',
      expected: ['failed: no reason given'],
    },
  ];

  it.each(cases)('$name', ({ result: target, emoji, expected }) => {
    const message = formatSlackMessage(report([target]));
    expect(headerText(message.blocks)).toBe(`${emoji} etl-prod`);
    const [section] = sectionTexts(message).slice(-1);
    for (const part of expected) expect(section).toContain(part);
    expect(section?.startsWith(emoji)).toBe(true);
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('puts namespace, workspace, cloud, event type and event id in fields and a summary in context', () => {
    const message = formatSlackMessage(report([result({ status: 'granted', added: [subject('kpo')] })]));
    const [, fields, context] = message.blocks;
    expect(fields).toEqual({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Namespace*\n\`${NS}\``, verbatim: true },
        { type: 'mrkdwn', text: '*Workspace*\nData Platform (`clx1ws`)', verbatim: true },
        { type: 'mrkdwn', text: '*Cloud*\nAWS · prod-us-east-1', verbatim: true },
        { type: 'mrkdwn', text: '*Event*\n`deployment.created`', verbatim: true },
        { type: 'mrkdwn', text: '*Event id*\n`msg_2abc`', verbatim: true },
        { type: 'mrkdwn', text: '*Deployment id*\n`clx1dep`', verbatim: true },
      ],
    });
    expect(context).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '1 target: 1 granted (+1 subject)', verbatim: true }],
    });
  });

  it('falls back to the workspace id and marks dry runs', () => {
    const base = report([result({ status: 'planned', added: [subject('kpo')] })], { dryRun: true });
    const message = formatSlackMessage({
      ...base,
      deployment: { id: 'd', name: 'n', namespace: NS, workspaceId: 'ws1' },
    });
    const text = allText(message);
    expect(text).toContain('*Workspace*\\nws1');
    expect(text).toContain('*Cloud*\\n_unknown_');
    expect(text).toContain('*Dry run*, nothing written · 1 target: 1 planned (+1 subject)');
  });

  it('leads with the worst outcome and sorts failures first, stably', () => {
    const message = formatSlackMessage(
      report([
        result({ status: 'unchanged', target: 'a' }),
        result({ status: 'granted', target: 'b', added: ['s'] }),
        result({ status: 'failed', target: 'c', reason: 'AccessDenied' }),
        result({ status: 'granted', target: 'd', added: ['s'] }),
      ]),
    );
    expect(headerText(message.blocks)).toBe('❌ etl-prod');
    expect(sectionTexts(message).map((text) => /`(\w)`/.exec(text)?.[1])).toEqual(['c', 'b', 'd', 'a']);
    expect(message.text.split('\n')[0]).toBe(
      `❌ etl-prod (${NS}) deployment.created [msg_2abc]: 4 targets: 1 failed, 2 granted (+2 subjects), 1 up to date`,
    );
  });

  it('says so when no target matched', () => {
    const message = formatSlackMessage(report([]));
    expect(headerText(message.blocks)).toBe('ℹ️ etl-prod');
    expect(sectionTexts(message)).toEqual(['No targets matched this Deployment; nothing to authorize.']);
  });

  it('is deterministic', () => {
    const input = report([result({ status: 'granted', added: [subject('kpo')] }), result({ status: 'denied' })]);
    expect(JSON.stringify(formatSlackMessage(input))).toBe(JSON.stringify(formatSlackMessage(structuredClone(input))));
  });
});

describe('formatSlackMessage: Slack limits', () => {
  it('folds targets past the 50-block limit into a final section', () => {
    const results = Array.from({ length: 60 }, (_, i) =>
      result({ status: i < 5 ? 'failed' : 'granted', target: `role-${i}`, added: [subject('kpo')], reason: 'boom' }),
    );
    const message = formatSlackMessage(report(results));
    expect(message.blocks).toHaveLength(50);
    const last = sectionTexts(message).at(-1);
    expect(last).toBe('…and 14 more targets: 14 targets: 14 granted (+14 subjects)');
    // Failures are never the ones folded away.
    expect(sectionTexts(message).filter((text) => text.includes('failed: boom'))).toHaveLength(5);
    expect(blocksProblem(message.blocks)).toBeUndefined();
    expect(message.text).toContain('…and 40 more targets');
  });

  it('keeps exactly 47 targets unfolded', () => {
    const results = Array.from({ length: 47 }, (_, i) => result({ status: 'unchanged', target: `role-${i}` }));
    const message = formatSlackMessage(report(results));
    expect(message.blocks).toHaveLength(50);
    expect(JSON.stringify(message.blocks)).not.toContain('more targets');
  });

  it.each([
    { status: 'granted' as const, cloud: 'aws' as const },
    { status: 'planned' as const, cloud: 'gcp' as const },
    { status: 'granted' as const, cloud: 'azure' as const },
  ])('truncates 400 $status subjects on $cloud to the 3000-character section limit', ({ status, cloud }) => {
    const added = Array.from({ length: 400 }, (_, i) => subject(`worker-serviceaccount-${String(i).padStart(3, '0')}`));
    const present = cloud === 'azure' ? added.map((s) => `${s}-old`) : [];
    const message = formatSlackMessage(
      report([result({ status, cloud, added, present, remedies: ['check the quota'] })]),
    );
    const [section] = sectionTexts(message);
    expect(section).toBeDefined();
    const text = section ?? '';
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text.length).toBeGreaterThan(2500);
    const more = /…and (\d+) more/.exec(text);
    const shown = text
      .split('\n')
      .filter((line) => line.startsWith('system:serviceaccount:') && !line.endsWith('-old'));
    expect(Number(more?.[1]) + shown.length).toBe(400);
    expect(text).toContain('• check the quota');
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('caps the header at 150 characters and long reasons inside the section', () => {
    const message = formatSlackMessage(
      report([result({ status: 'failed', reason: 'x'.repeat(10_000), remedies: Array(9).fill('y'.repeat(900)) })], {
        deployment: { id: 'd', name: 'n'.repeat(500), namespace: NS },
      }),
    );
    expect(headerText(message.blocks).length).toBeLessThanOrEqual(150);
    expect(headerText(message.blocks).endsWith('…')).toBe(true);
    expect(sectionTexts(message)[0]).toContain('…and 4 more');
    expect(message.text.length).toBeLessThanOrEqual(3000);
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('truncates without splitting an entity or a surrogate pair', () => {
    expect(truncateSlackText('abc&amp;def', 6)).toBe('abc…');
    expect(truncateSlackText('ab😀cd', 4)).toBe('ab…');
    expect(truncateSlackText('short', 10)).toBe('short');
  });
});

describe('formatSlackMessage: escaping input', () => {
  const hostile = report(
    [
      result({
        status: 'failed',
        target: 'arn:aws:iam::1:role/<!here>',
        reason: 'AccessDenied for <@U123> & <https://evil.example|click> @channel',
        remedies: ['ask <!subteam^S1>'],
        added: [],
      }),
      result({ status: 'granted', added: ['system:serviceaccount:ns:`x`<!channel>'] }),
    ],
    {
      eventId: '<!everyone>',
      deployment: { id: 'd', name: '<!channel> & friends', namespace: 'ns>', workspaceName: 'A&B <#C1>' },
    },
  );
  const message = formatSlackMessage(hostile);

  it.each(['<!channel>', '<!here>', '<!everyone>', '<@U123>', '<https://', '<!subteam', '<#C1>', '@channel'])(
    'never emits %s as Slack would parse it',
    (needle) => {
      expect(JSON.stringify(message)).not.toContain(needle);
    },
  );

  it('escapes &, < and > as entities everywhere', () => {
    expect(headerText(message.blocks)).toBe('❌ &lt;!channel&gt; &amp; friends');
    const text = allText(message);
    expect(text).toContain('AccessDenied for &lt;@U123&gt; &amp; &lt;https://evil.example|click&gt; @\u2060channel');
    expect(text).toContain('A&amp;B &lt;#C1&gt;');
    expect(text).toContain('`ns&gt;`');
    expect(text).toContain('system:serviceaccount:ns:ˋxˋ&lt;!channel&gt;');
    expect(message.text).toContain('&lt;!channel&gt; &amp; friends (ns&gt;)');
    expect(escapeSlack('a&b<c>d @here')).toBe('a&amp;b&lt;c&gt;d @\u2060here');
  });
});

describe('shouldNotify', () => {
  const byStatus = (status: TargetStatus, added: string[] = []) => report([result({ status, added })]);
  const table: Array<[string, EventReport, Record<SlackNotifyPolicy, boolean>]> = [
    ['granted with changes', byStatus('granted', ['s']), { 'changes-and-failures': true, failures: false, all: true }],
    ['granted, nothing added', byStatus('granted'), { 'changes-and-failures': false, failures: false, all: true }],
    ['unchanged', byStatus('unchanged'), { 'changes-and-failures': false, failures: false, all: true }],
    ['planned', byStatus('planned', ['s']), { 'changes-and-failures': false, failures: false, all: true }],
    ['denied', byStatus('denied'), { 'changes-and-failures': true, failures: true, all: true }],
    ['does-not-fit', byStatus('does-not-fit'), { 'changes-and-failures': true, failures: true, all: true }],
    ['conflict', byStatus('conflict'), { 'changes-and-failures': true, failures: true, all: true }],
    ['failed', byStatus('failed'), { 'changes-and-failures': true, failures: true, all: true }],
    ['no targets', report([]), { 'changes-and-failures': false, failures: false, all: true }],
    [
      'unchanged plus failed',
      report([result({ status: 'unchanged' }), result({ status: 'failed' })]),
      { 'changes-and-failures': true, failures: true, all: true },
    ],
  ];
  const policies: SlackNotifyPolicy[] = ['changes-and-failures', 'failures', 'all'];
  it.each(
    table.flatMap(([name, input, expected]) =>
      policies.map((policy) => ({ name, input, policy, want: expected[policy] })),
    ),
  )('$name under $policy -> $want', ({ input, policy, want }) => {
    expect(shouldNotify(input, policy)).toBe(want);
  });

  it('defaults to changes-and-failures', () => {
    expect(shouldNotify(byStatus('unchanged'))).toBe(false);
    expect(shouldNotify(byStatus('failed'))).toBe(true);
  });
});

describe('renderSlackText', () => {
  it('renders every block as plain text with entities decoded', () => {
    const message = formatSlackMessage(
      report(
        [
          result({ status: 'granted', added: [subject('kpo')] }),
          result({ status: 'denied', target: 'arn:aws:iam::1:role/x', reason: 'not in aws.allowedRoles & <nope>' }),
        ],
        { deployment: { id: 'd', name: 'etl & co', namespace: NS, workspaceName: 'WS' } },
      ),
    );
    expect(renderSlackText(message)).toBe(
      [
        '⛔ etl & co',
        '==========',
        '',
        `*Namespace*: \`${NS}\``,
        '*Workspace*: WS',
        '*Cloud*: _unknown_',
        '*Event*: `deployment.created`',
        '*Event id*: `msg_2abc`',
        '*Deployment id*: `d`',
        '',
        '2 targets: 1 denied, 1 granted (+1 subject)',
        '',
        '⛔ *AWS* `arn:aws:iam::1:role/x`',
        'denied: not in aws.allowedRoles & <nope>',
        '',
        `✅ *AWS* \`${ROLE}\``,
        'added 1 subject:',
        '```',
        subject('kpo'),
        '```',
        '',
      ].join('\n'),
    );
  });

  it('renders dividers and multi-element context blocks', () => {
    const text = renderSlackText({
      text: 'x',
      blocks: [
        { type: 'divider' },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: 'a' },
            { type: 'mrkdwn', text: 'b' },
          ],
        },
      ],
    });
    expect(text).toBe(`${'-'.repeat(40)}\n\na | b\n`);
  });
});

describe('formatRejectedEvent', () => {
  it('names the Deployment id and the reason, escaped, within Slack limits', () => {
    const message = formatRejectedEvent({
      eventId: 'msg_1',
      deploymentId: 'clunknown0000000000000000',
      reason: 'the Astro API does not know this Deployment <!channel>',
    });
    expect(message.text).toContain('clunknown0000000000000000');
    expect(message.text).toContain('does not know this Deployment &lt;!channel&gt;');
    expect(JSON.stringify(message.blocks)).toContain('msg_1');
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });
});

describe('formatSlackMessage: identity paths read apart', () => {
  const cases: Array<{ name: string; result: TargetResult; expected: string[]; absent?: string[] }> = [
    {
      name: 'DR grant says DR before the outcome',
      result: result({ status: 'granted', dr: true, added: [subject('worker-serviceaccount')] }),
      expected: ['DR: added 1 subject'],
    },
    {
      name: 'primary grant has no DR prefix',
      result: result({ status: 'granted', added: [subject('worker-serviceaccount')] }),
      expected: ['added 1 subject'],
      absent: ['DR:'],
    },
    {
      name: 'Astro-managed identity trusted by principal',
      result: result({
        status: 'granted',
        kind: 'aws-role-principal',
        added: ['arn:aws:iam::999999999999:role/astro-wi'],
      }),
      expected: ['_(trusts the Astro identity)_', 'added 1 principal'],
    },
    {
      name: 'GCP impersonation',
      result: result({
        cloud: 'gcp',
        target: 'etl@acme.iam.gserviceaccount.com',
        status: 'unchanged',
        kind: 'gcp-service-account-token-creator',
        present: ['serviceAccount:astro-wi@astro.iam.gserviceaccount.com'],
      }),
      expected: ['_(impersonation)_', 'already up to date (1 member present)'],
    },
    {
      name: 'GCP project roles count bindings',
      result: result({
        cloud: 'gcp',
        target: 'acme-data',
        status: 'planned',
        kind: 'gcp-project',
        added: ['roles/bigquery.dataViewer serviceAccount:a@b.iam.gserviceaccount.com', 'roles/storage.objectViewer x'],
      }),
      expected: ['_(project roles)_', 'dry run: would add 2 bindings'],
    },
    {
      name: 'notes from the write are shown',
      result: result({
        status: 'granted',
        added: [subject('kpo')],
        notes: ['created the IAM OIDC provider oidc.astronomer.io/abc'],
      }),
      expected: ['ℹ️ created the IAM OIDC provider oidc.astronomer.io/abc'],
    },
  ];
  it.each(cases)('$name', ({ result: r, expected, absent }) => {
    const message = formatSlackMessage(report([r]));
    const text = sectionTexts(message).join('\n');
    for (const part of expected) expect(text).toContain(part);
    for (const part of absent ?? []) expect(text).not.toContain(part);
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('keeps notes and the section inside Slack limits when notes are long and many', () => {
    const notes = Array.from({ length: 10 }, (_, i) => `note ${i} ${'x'.repeat(2000)}`);
    const message = formatSlackMessage(report([result({ status: 'granted', added: [subject('kpo')], notes })]));
    const text = sectionTexts(message).join('\n');
    expect(text.match(/ℹ️/g)?.length).toBeLessThanOrEqual(3);
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('a note of a write shared by the primary and DR grants is said once', () => {
    const note = 'created the IAM OIDC provider x';
    const message = formatSlackMessage(
      report([
        result({ status: 'granted', added: [subject('kpo')], notes: [note] }),
        result({ status: 'granted', dr: true, added: [subject('kpo')], notes: [note] }),
      ]),
    );
    expect(sectionTexts(message).join('\n').split(note)).toHaveLength(2);
  });

  it('the fallback text also carries the DR prefix', () => {
    const message = formatSlackMessage(report([result({ status: 'granted', dr: true, added: [subject('kpo')] })]));
    expect(message.text).toContain('DR: added 1 subject');
  });
});

describe('a Deployment name cannot forge lines or formatting', () => {
  const forged = 'etl\n✅ *prod-db* (`ns`) AWS `arn:aws:iam::1:role/x`: added 6 ~x~';

  it('in the per-event message: folded to one line, markers swapped, still within limits', () => {
    const message = formatSlackMessage(
      report([result({ status: 'granted', added: [subject('kpo')] })], {
        deployment: { ...report([]).deployment, name: forged },
      }),
    );
    expect(headerText(message.blocks)).not.toContain('\n');
    expect(message.text.split('\n')[0]).toContain('etl ✅ ∗prod-db∗ (ˋnsˋ)');
    expect(allText(message)).not.toContain('*prod-db*');
    expect(blocksProblem(message.blocks)).toBeUndefined();
  });

  it('in the poll and sweep summary', () => {
    const summary = formatRunSummary(
      {
        runId: 'sweep-1',
        task: 'sweep',
        deployments: 1,
        reports: [
          report([result({ status: 'granted', added: [subject('kpo')] })], {
            deployment: { ...report([]).deployment, name: forged },
          }),
        ],
        cleanup: [],
        invalid: [],
      },
      'all',
    );
    const lines = sectionTexts(summary as SlackMessage)
      .join('\n')
      .split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^✅ \*etl ✅ ∗prod-db∗/);
  });
});
