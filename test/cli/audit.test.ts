import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import type { AuditReport } from '../../shared/report/audit.ts';
import { usagePercent } from '../../shared/report/capacity.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { chromiumPath } from '../support/chromium.ts';
import { apiDeployment, ISSUER_AWS } from '../support/deployments.ts';
import { runCli } from '../support/run-cli.ts';

// `audit`: who can assume what, read-only, through the real CLI against the emulators; the page in real Chromium.

/** What a Deployment's subjects cost in a trust policy: each quoted, with its comma. */
const subjectsCost = (entries: readonly string[] = []) =>
  entries.reduce((sum, entry) => sum + JSON.stringify(entry).length + 1, 0);
const role = (name: string) => `arn:aws:iam::${LOCAL_ACCOUNT}:role/${name}`;

describe('astro-identity-sync audit', () => {
  let stack: AwsStack;
  let configFile: string;
  const dir = tmpdir();
  beforeAll(async () => {
    stack = await startAwsStack();
    configFile = join(dir, `audit-config-${process.pid}.yaml`);
    writeFileSync(
      configFile,
      `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
aws: { allowedRoles: ["${role('astro-*')}"] }
`,
    );
    // A person's own statement trusting a service account of a live Deployment's namespace, and one of another.
    stack.aws.putRole('astro-audit-a', {
      ...EC2_TRUST,
      Statement: [
        ...EC2_TRUST.Statement,
        {
          Sid: 'PlatformTeamDebug',
          Effect: 'Allow',
          Principal: { Federated: `arn:aws:iam::${LOCAL_ACCOUNT}:oidc-provider/${ISSUER_AWS.slice(8)}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: {
            StringEquals: {
              [`${ISSUER_AWS.slice(8)}:sub`]: [
                'system:serviceaccount:live-ns-0001:debug-shell',
                'system:serviceaccount:kube-system:aws-node',
              ],
            },
          },
        },
      ],
    });
    stack.aws.putRole('astro-audit-b', EC2_TRUST);
    const d = (id: string, ns: string, roleName: string) =>
      apiDeployment({
        id,
        name: ns,
        namespace: ns,
        effectiveWorkloadIdentity: role(roleName),
        airflowVersion: '3.0.1',
      });
    // Granted, then deleted from Astro: its entries are stale.
    stack.astro.upsert(d('clq2audit0000000000000gone', 'gone-ns-0001', 'astro-audit-a'));
    stack.astro.upsert(d('clq2audit0000000000000live', 'live-ns-0001', 'astro-audit-a'));
    expect(await cli('sync', '--all', '--apply')).toMatchObject({ code: 0 });
    stack.astro.remove('clq2audit0000000000000gone');
    // Never granted: the next sweep would add it.
    stack.astro.upsert(d('clq2audit0000000000000new0', 'new-ns-0001', 'astro-audit-b'));
  });
  afterAll(() => stack.close());

  const cli = (...args: string[]) => runCli([args[0] ?? '', '--config', configFile, ...args.slice(1)], '', stack.env);

  it('answers per target: trusted, missing and stale, and makes no write call', async () => {
    stack.aws.resetCalls();
    const writesBefore = stack.dynamo?.calls.filter((c) => c !== 'GetItem').length ?? 0;
    const run = await cli('audit', '--format', 'json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as AuditReport;
    const a = report.targets.find((t) => t.target === role('astro-audit-a'));
    const b = report.targets.find((t) => t.target === role('astro-audit-b'));
    expect(a?.trusted.map((d) => d.namespace)).toEqual(['live-ns-0001']);
    expect(a?.stale).toEqual(['gone-ns-0001']);
    expect(b?.missing.map((d) => [d.namespace, d.entries.length])).toEqual([['new-ns-0001', 6]]);
    expect(b?.trusted).toEqual([]);
    // A person's entry naming an Astro Deployment's namespace is shown; one naming another namespace is not Astro's.
    expect(a?.foreign).toEqual(['system:serviceaccount:live-ns-0001:debug-shell']);
    expect(b?.foreign).toEqual([]);
    // Capacity from the audit's own read: what the role holds today, with room counted in Deployments of its shape.
    expect(a?.usage).toEqual({
      used: JSON.stringify(stack.aws.getTrustPolicy('astro-audit-a')).length,
      limit: 2048,
      unit: 'characters',
    });
    expect(b?.usage?.used).toBe(JSON.stringify(EC2_TRUST).length);
    expect(a?.headroom).toBeGreaterThanOrEqual(0);
    expect(b?.headroom).toBe(
      Math.floor((2048 - JSON.stringify(EC2_TRUST).length) / subjectsCost(b?.missing[0]?.entries)),
    );
    // Read-only: no IAM write, no OIDC provider created, no lease or other DynamoDB write.
    const writes = stack.aws.calls.filter((c) => !/^(Get|List)/.test(c.action));
    expect(writes.map((c) => c.action)).toEqual([]);
    expect((stack.dynamo?.calls.filter((c) => c !== 'GetItem').length ?? 0) - writesBefore).toBe(0);
    const table = await cli('audit');
    expect(table.stdout).toContain('  stale    gone-ns-0001 (no current Deployment needs it)');
    expect(table.stdout).toContain('  missing  new-ns-0001 (new-ns-0001): 6 entries');
    expect(table.stdout).toContain(
      "  by hand  system:serviceaccount:live-ns-0001:debug-shell (a person's entry; never touched)",
    );
    expect(table.stdout).toMatch(
      /astro-audit-b {2}\d+\/2048 characters \([\d.]+%\), room for \d+ more Deployment\(s\)/,
    );
  });

  it('writes one self-contained page that renders in Chromium with every target and the JSON numbers', async () => {
    const page = join(dir, `audit-${process.pid}.html`);
    expect((await cli('audit', '--format', 'html', '--out', page)).code).toBe(0);
    const json = JSON.parse((await cli('audit', '--format', 'json')).stdout) as AuditReport;
    const html = readFileSync(page, 'utf8');
    // Works offline: nothing to fetch.
    expect(html).not.toMatch(/<(link|img|script)[^>]+(src|href)=/);
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
    try {
      const tab = await browser.newPage();
      const requests: string[] = [];
      tab.on('request', (r) => requests.push(r.url()));
      await tab.goto(`file://${page}`);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      const rows = await tab.$$eval('tr.target', (trs) =>
        trs.map((tr) => ({
          target: tr.querySelector('td.name')?.firstChild?.textContent?.trim() ?? '',
          trusted: Number((tr.querySelector('td.trusted') as HTMLElement | null)?.dataset.count),
          missing: Number((tr.querySelector('td.missing') as HTMLElement | null)?.dataset.count),
          stale: Number((tr.querySelector('td.stale') as HTMLElement | null)?.dataset.count),
          foreign: Number((tr.querySelector('td.foreign') as HTMLElement | null)?.dataset.count),
          use: tr.querySelector('td.capacity .use')?.textContent ?? '',
          high: tr.querySelector('td.capacity .fill.high') !== null,
        })),
      );
      expect(rows).toEqual(
        json.targets.map((t) => ({
          target: t.target,
          trusted: t.trusted.length,
          missing: t.missing.length,
          stale: t.stale.length,
          foreign: t.foreign.length,
          use:
            t.usage === undefined
              ? ''
              : `${t.usage.used} / ${t.usage.limit} ${t.usage.unit} (${usagePercent(t.usage)}%)`,
          high: t.usage !== undefined && (usagePercent(t.usage) ?? 0) >= json.warnAtPercent,
        })),
      );
      await tab.click('button.sort');
      expect(await tab.textContent('#summary')).toContain(`${json.targets.length} target(s)`);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
