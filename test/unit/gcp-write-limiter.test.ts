import { describe, expect, it } from 'vitest';
import { createPolicyWriteLimiter, type PolicyWriteQuota } from '../../functions/gcp/policy-write-limiter.ts';
import { fakeClock, mostInWindow } from '../support/fake-clock.ts';

describe('GCP policy write limiter', () => {
  it('keeps every quota under its writes per minute, in any minute, however the writes arrive', async () => {
    const clock = fakeClock();
    const limiter = createPolicyWriteLimiter({ writesPerMinute: 500, clock });
    const granted: Record<PolicyWriteQuota, number[]> = { iam: [], cloudresourcemanager: [] };
    const ask = (quota: PolicyWriteQuota, at: number) =>
      void clock.sleep(at).then(() => limiter.beforeWrite(quota).then(() => granted[quota].push(clock.now())));
    // A sweep finding drift everywhere at once (1,200 service accounts), a trickle later, and project writes alongside.
    for (let i = 0; i < 1200; i++) ask('iam', 0);
    for (let i = 0; i < 100; i++) ask('iam', 90_000 + i * 50);
    for (let i = 0; i < 300; i++) ask('cloudresourcemanager', i * 10);
    await clock.run();
    expect(granted.iam).toHaveLength(1300);
    expect(granted.cloudresourcemanager).toHaveLength(300);
    expect(mostInWindow(granted.iam, 60_000)).toBe(500);
    expect(mostInWindow(granted.cloudresourcemanager, 60_000)).toBe(300);
    // Paced across the minute (120 ms apart), not 500 at once and then a stall.
    expect(mostInWindow(granted.iam, 1000)).toBeLessThanOrEqual(9);
    // The two APIs are metered apart: 300 project writes took 300 * 120 ms, not behind the 1,300 IAM writes.
    expect(Math.max(...granted.cloudresourcemanager)).toBe(299 * 120);
  });

  it('takes Google’s full quota when configured so, and never more', async () => {
    const clock = fakeClock();
    const limiter = createPolicyWriteLimiter({ writesPerMinute: 600, clock });
    const granted: number[] = [];
    for (let i = 0; i < 2000; i++) void limiter.beforeWrite('iam').then(() => granted.push(clock.now()));
    await clock.run();
    expect(mostInWindow(granted, 60_000)).toBe(600);
  });
});
