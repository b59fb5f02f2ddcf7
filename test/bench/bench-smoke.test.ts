/**
 * Proves the benchmark's measurement functions work, on the smallest sizes and without the AWS CLI. Asserts call
 * counts and correctness only, never timings.
 */
import { describe, expect, it } from 'vitest';
import { measureBurst } from '../../bench/burst.ts';
import { measureColdStart } from '../../bench/cold-start.ts';
import { compareWithManual } from '../../bench/compare-manual.ts';
import { measureEventCosts } from '../../bench/event-costs.ts';
import { EC2_TRUST, manualSubjects } from '../../bench/fixtures.ts';
import { manualEdit } from '../../bench/manual-cli.ts';
import { measureSweepScale } from '../../bench/sweep-scale.ts';

/** Read + verify read, plus the settle re-read when the driver declares an etag-less target that needs it. */
/** A changed event reads twice: before planning, and once to verify (after the quiet window IAM needs). */
function changedReads(): number {
  return 2;
}

describe('benchmark measurement functions (smallest sizes)', () => {
  it('edits a trust policy the way the scripted manual path does, idempotently', () => {
    const subjects = manualSubjects('nebular-gravity-1234', '2.10.3');
    const once = manualEdit(structuredClone(EC2_TRUST), subjects);
    const twice = manualEdit(structuredClone(once), subjects);
    expect(twice).toEqual(once);
    expect(JSON.stringify(once)).toContain('system:serviceaccount:nebular-gravity-1234:nebular-gravity-1234-kpo');
    expect((once.Statement as unknown[]).length).toBe(2);
  });

  it('part 1: reports the CLI rows as skipped and grants 1 Deployment through the reconciler handler', async () => {
    const result = await compareWithManual({ sizes: [1], cli: { available: false }, runs: 1 });
    const cli = result.rows.find((r) => r.path === 'aws-cli');
    expect(cli?.status).toBe('skipped');
    expect(cli?.note).toMatch(/apt-get install -y awscli/);
    for (const mode of ['per-event', 'sqs-batch'] as const) {
      const row = result.rows.find((r) => r.path === mode);
      expect(row).toMatchObject({ status: 'measured', deployments: 1, writes: 1, granted: 1 });
      expect(row?.iamCalls).toBe(1 + changedReads());
    }
  });

  it('part 2: converged = 1 call, changed = 1 write + its reads, 10 events on one role = 1 write', async () => {
    const result = await measureEventCosts({ events: 1, latencyMs: 0, warmup: 0 });
    const reads = changedReads();
    expect(result.levels.map((l) => l.level)).toEqual(['handler', 'core']);
    for (const { converged, changed } of result.levels) {
      expect(converged.iamCallsPerEvent).toEqual([1]);
      expect(converged.writesPerEvent).toEqual([0]);
      expect(changed.iamCallsPerEvent).toEqual([1 + reads]);
      expect(changed.writesPerEvent).toEqual([1]);
    }
    expect(result.batch).toEqual({ events: 10, reads, writes: 1, granted: 10 });
  });

  it('part 4: a small burst through the stack and through processBatch loses nothing', async () => {
    const rows = await measureBurst({ deployments: 4, roles: 2 });
    expect(rows.map((r) => r.path)).toEqual(['stack', 'one-batch', 'lanes']);
    for (const row of rows) expect(row).toMatchObject({ lost: 0, failedEvents: 0, deployments: 4, roles: 2 });
    // Through the events queue: batches of up to 10, so 4 events on 2 roles cost one write per role per batch.
    const stack = rows[0];
    expect(stack).toMatchObject({ putEvents: 4 });
    expect(stack?.invocations).toBeGreaterThanOrEqual(1);
    expect(stack?.invocations).toBeLessThanOrEqual(4);
    expect(stack?.writes).toBeGreaterThanOrEqual(2);
    expect(stack?.writes).toBeLessThanOrEqual(2 * (stack?.invocations ?? 0));
    expect(rows[1]?.writes).toBe(2); // one write per role for the whole batch
  });

  it('part 5: sweeps through the GCP scheduled handler; pages of 1000 cost a sixth of the GETs of pages of 100', async () => {
    const result = await measureSweepScale({
      deployments: 1100,
      // About 137 Deployments (825 members) per service account: a GCP policy holds 1,500 members.
      targets: 8,
      latencyMs: 0,
      // The fastest the config allows, to keep the test short; the bench runs the defaults.
      requestsPerSecond: 25,
      writesPerMinute: 600,
      pageSizes: [1000, 100],
      log: () => undefined,
    });
    const row = (pageSize: number, run: string) => result.rows.find((r) => r.pageSize === pageSize && r.run === run);
    for (const r of result.rows) expect(r).toMatchObject({ deployments: 1100, failed: 0, quotaRefusals: 0 });
    // First sweep: grants, prunes the seeded member of a deleted Deployment, so it lists twice; converged: once.
    expect(row(1000, 'first')).toMatchObject({ astroGets: 4, iamWrites: 16 });
    expect(row(1000, 'converged')).toMatchObject({ astroGets: 2, iamWrites: 0 });
    expect(row(100, 'first')).toMatchObject({ astroGets: 24, iamWrites: 16 });
    expect(row(100, 'converged')).toMatchObject({ astroGets: 12, iamWrites: 0 });
    expect(row(1000, 'first')?.peakRssBytes).toBeGreaterThan(0);
  }, 60_000);

  it('part 3: measures module load for one artifact without building', async () => {
    const result = await measureColdStart({ runs: 1, allowBuild: false, ids: ['aws/reconciler'] });
    expect(result.rows.map((r) => r.id)).toEqual(['aws/reconciler']);
    expect(Number.isFinite(result.rows[0]?.loadMedianMs)).toBe(true);
    expect(Number.isFinite(result.bareNodeMedianMs)).toBe(true);
  });
});
