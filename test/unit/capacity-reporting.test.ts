import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import { type BatchItem, processBatch } from '../../shared/reconcile/process-batch.ts';
import { runSweep } from '../../shared/reconcile/sweep.ts';
import { TargetLanes } from '../../shared/reconcile/target-lanes.ts';
import { formatBatchMessage } from '../../shared/report/batch-message.ts';
import type { EventReport, TargetResult } from '../../shared/report/outcome.ts';
import { formatRunSummary } from '../../shared/report/run-summary-message.ts';
import { shouldNotify } from '../../shared/report/slack-message.ts';
import { targetSectionText } from '../../shared/report/target-section.ts';
import { apiDeployment } from '../support/deployments.ts';
import { memoryTargets } from '../support/memory-targets.ts';

const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const config = (extra = '') =>
  parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"]
${extra}`);
// memoryTargets' kind counts subjects against a limit of 100; an Airflow 2 Deployment is six of them.
const item = (i: number): BatchItem => ({
  eventId: `evt-${i}`,
  type: 'deployment.created',
  deployment: deploymentSchema.parse(
    apiDeployment({ id: `clq2cap${String(i).padStart(18, '0')}`, name: `cap-${i}`, namespace: `cap-ns-${i}` }),
  ),
});
const items = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => item(from + k));

describe('the capacity warning in the pipeline', () => {
  it('is said by the batch whose write crossed the threshold, once, and not by the batches after it', async () => {
    const { targets } = memoryTargets();
    const options = { config: config(), targets };
    const below = await processBatch(items(0, 13), options); // 78 of 100
    expect(below.flatMap((r) => r.results).some((r) => r.capacityWarning !== undefined)).toBe(false);
    expect(below.at(-1)?.results[0]?.usage).toEqual({ used: 78, limit: 100, unit: 'members' });
    const crossing = await processBatch(items(13, 15), options); // 90 of 100
    const warned = crossing.flatMap((r) => r.results).filter((r) => r.capacityWarning !== undefined);
    expect(warned).toHaveLength(1);
    expect(crossing[0]?.results[0]?.capacityWarning).toMatchObject({ percent: 90, threshold: 80, headroom: 1 });
    const after = await processBatch(items(15, 16), options); // 96 of 100: still above, already said
    expect(after[0]?.results[0]?.capacityWarning).toBeUndefined();
  });

  it('is said once when concurrent batches fold into one round on shared lanes', async () => {
    const { targets } = memoryTargets();
    const lanes = new TargetLanes();
    const options = { config: config(), targets, lanes };
    await processBatch(items(0, 12), options); // 72 of 100
    // The first batch takes the lane; the next two wait and go into one round together, which crosses 80.
    const batches = await Promise.all([
      processBatch(items(12, 13), options),
      processBatch(items(13, 14), options),
      processBatch(items(14, 15), options),
    ]);
    const results = batches.flat().flatMap((report) => report.results);
    expect(results.map((r) => r.usage?.used)).toEqual([78, 90, 90]);
    expect(results.filter((r) => r.capacityWarning !== undefined)).toHaveLength(1);
  });

  it('takes its threshold from capacity.warnAtPercent', async () => {
    const { targets } = memoryTargets();
    const reports = await processBatch(items(0, 3), { config: config('capacity: { warnAtPercent: 15 }'), targets });
    expect(reports[0]?.results[0]?.capacityWarning).toMatchObject({ percent: 18, threshold: 15 });
  });

  it('is said in a dry run too, as what the plan would leave', async () => {
    const { targets, writes } = memoryTargets();
    const reports = await processBatch(items(0, 14), { config: config(), targets, dryRun: true });
    expect(writes).toEqual([]);
    expect(reports[0]?.results[0]).toMatchObject({ status: 'planned', usage: { used: 84 } });
    expect(reports[0]?.results[0]?.capacityWarning?.percent).toBe(84);
  });

  it('the sweep summary lists every target at or above the threshold, every run', async () => {
    const { targets } = memoryTargets();
    const deployments = items(0, 14).map((i) => i.deployment);
    const lister = { list: async () => ({ deployments, invalid: [], complete: true }) };
    const batch = { config: config(), targets };
    const first = await runSweep({ lister, batch, runId: 'sweep-1' });
    expect(first.aboveThreshold).toEqual([
      { cloud: 'aws', target: ROLE, usage: { used: 84, limit: 100, unit: 'members' } },
    ]);
    const second = await runSweep({ lister, batch, runId: 'sweep-2' });
    expect(second.reports.flatMap((r) => r.results).every((r) => r.status === 'unchanged')).toBe(true);
    expect(second.aboveThreshold).toHaveLength(1);
    const text = JSON.stringify(formatRunSummary(second));
    expect(text).toContain(`📈 AWS \`${ROLE}\`: 84/100 members (84%), at or above the 80% capacity threshold`);
    expect(formatRunSummary(second)?.text).toBe(
      '📈 astro-identity-sync sweep: 14 Deployment(s), 0 change(s), 0 problem(s), 1 near capacity',
    );
    // Told under `failures` too: nothing failed, but the role is nearly full.
    expect(JSON.stringify(formatRunSummary(second, 'failures'))).toContain('at or above the 80% capacity threshold');
  });
});

const warning = {
  percent: 83,
  threshold: 80,
  headroom: 0,
  remedies: ['Raise the "Role trust policy length" quota (L-C07B4B0D) in Service Quotas.'],
};
const warned: TargetResult = {
  cloud: 'aws',
  target: ROLE,
  status: 'granted',
  added: ['system:serviceaccount:ns:ns-scheduler-serviceaccount'],
  removed: [],
  present: [],
  usage: { used: 1700, limit: 2048, unit: 'characters' },
  capacityWarning: warning,
};
const { capacityWarning: _, ...plain } = warned;
const report = (results: TargetResult[], id = 'evt-1'): EventReport => ({
  eventId: id,
  type: 'deployment.created',
  deployment: { id: 'dep', name: 'etl', namespace: 'ns' },
  dryRun: false,
  results,
});

describe('the capacity warning in Slack', () => {
  it('the per-target section says where it stands, what still fits and what to do', () => {
    const text = targetSectionText(warned);
    expect(text).toContain(
      '📈 *Capacity:* 1700/2048 characters (83%), at or above the 80% threshold; not one more Deployment of this shape fits.',
    );
    expect(text).toContain('*Before it is full:*\n• Raise the "Role trust policy length" quota (L-C07B4B0D)');
    expect(targetSectionText({ ...warned, capacityWarning: { ...warning, headroom: 3 } })).toContain(
      'about 3 more Deployments of this shape fit',
    );
    expect(targetSectionText(plain)).not.toContain('Capacity');
  });

  it('the batch message keeps it under its target', () => {
    const message = formatBatchMessage([report([warned]), report([plain], 'evt-2')]);
    const text = JSON.stringify(message);
    expect(text.match(/\*Capacity:\*/g)).toHaveLength(1);
  });

  it('is told even when the channel only hears failures: a person must act before a grant is refused', () => {
    expect(shouldNotify(report([warned]), 'failures')).toBe(true);
    expect(shouldNotify(report([plain]), 'failures')).toBe(false);
  });
});
