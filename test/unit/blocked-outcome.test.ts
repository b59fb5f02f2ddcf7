import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import type { JsonObject, TrustPolicyDocument } from '../../shared/plan/aws/policy-document.ts';
import { type BatchItem, processBatch } from '../../shared/reconcile/process-batch.ts';
import { reportHasFailures } from '../../shared/report/outcome.ts';
import { formatRunSummary } from '../../shared/report/run-summary-message.ts';
import { formatSlackMessage } from '../../shared/report/slack-message.ts';
import { countsLine, targetSectionText } from '../../shared/report/target-section.ts';
import { apiDeployment, ISSUER_AWS } from '../support/deployments.ts';
import { memoryRoles } from '../support/memory-roles.ts';

/** A Deny in the role's trust policy, end to end through the core: reported `blocked`, never written, no write storm. */

const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const HP = ISSUER_AWS.replace('https://', '');
const NS = 'nebular-gravity-1234';
const WORKER = `system:serviceaccount:${NS}:${NS}-worker-serviceaccount`;
const NO_WORKERS: JsonObject = {
  Sid: 'NoWorkers',
  Effect: 'Deny',
  Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${HP}` },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringLike: { [`${HP}:sub`]: 'system:serviceaccount:*:*-worker-serviceaccount' } },
};
const policyWith = (...statements: JsonObject[]): TrustPolicyDocument => ({
  Version: '2012-10-17',
  Statement: statements,
});
const config = parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"]
`);
const item: BatchItem = {
  eventId: 'evt-1',
  type: 'deployment.updated',
  deployment: deploymentSchema.parse(apiDeployment({ effectiveWorkloadIdentity: ROLE })),
};

async function run(roles: ReturnType<typeof memoryRoles>, dryRun = false) {
  const [report] = await processBatch([item], { config, targets: roles.targets, dryRun, settleMs: 0 });
  if (report === undefined) throw new Error('no report');
  return report;
}

describe('a subject an explicit Deny covers', () => {
  it('is reported blocked by the Deny Sid; the rest is written once; a second run writes nothing', async () => {
    const roles = memoryRoles({ [ROLE]: policyWith(NO_WORKERS) });
    const first = await run(roles);
    const [result] = first.results;
    expect(result).toMatchObject({ status: 'blocked', blocked: [WORKER] });
    expect(result?.added).toHaveLength(5);
    expect(result?.reason).toContain('denied by NoWorkers');
    expect(JSON.stringify(roles.policies.get(ROLE)?.Statement)).not.toContain(`${NS}-worker-serviceaccount`);
    expect(reportHasFailures(first)).toBe(true);
    expect(roles.writes).toHaveLength(1);

    const second = await run(roles);
    expect(second.results[0]).toMatchObject({ status: 'blocked', added: [], blocked: [WORKER] });
    expect(second.results[0]?.present).toHaveLength(5);
    expect(roles.writes).toHaveLength(1);
  });

  it('a dry run reports it blocked too, and writes nothing', async () => {
    const roles = memoryRoles({ [ROLE]: policyWith(NO_WORKERS) });
    const report = await run(roles, true);
    expect(report.results[0]).toMatchObject({ status: 'blocked', blocked: [WORKER] });
    expect(roles.writes).toEqual([]);
  });

  it('a Deny on every subject: blocked, zero writes', async () => {
    const { Condition: _all, ...denyAll } = NO_WORKERS;
    const roles = memoryRoles({ [ROLE]: policyWith(denyAll) });
    const report = await run(roles);
    expect(report.results[0]).toMatchObject({ status: 'blocked', added: [] });
    expect(report.results[0]?.blocked).toHaveLength(6);
    expect(roles.writes).toEqual([]);
  });

  it('renders in Slack and the run summary like the other statuses that need a person', async () => {
    const roles = memoryRoles({ [ROLE]: policyWith(NO_WORKERS) });
    const report = await run(roles);
    const [result] = report.results;
    if (result === undefined) throw new Error('no result');
    const section = targetSectionText(result);
    expect(section).toContain('🚫');
    expect(section).toContain('blocked: an explicit Deny in the trust policy blocks 1 subject');
    expect(section).toContain('NoWorkers');
    expect(countsLine(report.results)).toBe('1 target: 1 blocked by a Deny');
    expect(JSON.stringify(formatSlackMessage(report))).toContain('NoWorkers');
    const summary = formatRunSummary({
      runId: 'r',
      task: 'sweep',
      deployments: 1,
      reports: [report],
      cleanup: [],
      invalid: [],
    });
    expect(JSON.stringify(summary)).toContain('blocked');
  });
});

describe('an edited managed statement', () => {
  it('is reported on the grant that writes around it and on every converged run after, with zero writes', async () => {
    const roles = memoryRoles({ [ROLE]: policyWith() });
    await run(roles);
    const policy = roles.policies.get(ROLE) as TrustPolicyDocument;
    const [ours] = policy.Statement as JsonObject[];
    // A person lets the statement pass session tags too.
    const edited = { ...ours, Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'] };
    roles.policies.set(ROLE, policyWith(edited));
    const writes = roles.writes.length;
    const again = await run(roles);
    expect(again.results[0]?.status).toBe('unchanged');
    expect(again.results[0]?.notes).toEqual([expect.stringContaining(`${String(ours?.Sid)} was edited by hand`)]);
    expect(roles.writes).toHaveLength(writes);
  });
});
