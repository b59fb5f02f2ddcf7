import { describe, expect, it } from 'vitest';
import { readSettings } from '../../functions/common/env-settings.ts';
import { invocationDeadline } from '../../functions/common/invocation-deadline.ts';
import { Deadline } from '../../shared/deadline.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import {
  type GrantRequest,
  MAX_SETTLE_TOTAL_MS,
  reconcileTarget,
  type TargetDriver,
} from '../../shared/reconcile/reconcile-target.ts';

/** A fake clock the sleeps advance: waits cost no real time and their total is what the test reads. */
function clock() {
  let at = 1_000_000;
  const slept: number[] = [];
  return {
    now: () => at,
    sleep: async (ms: number) => {
      slept.push(ms);
      at += ms;
    },
    slept,
    advance: (ms: number) => {
      at += ms;
    },
  };
}

const request = (key: string, namespace: string): GrantRequest => ({
  key,
  issuer: undefined,
  grant: desiredGrant({ namespace, selection: { components: ['scheduler', 'worker'] } }),
});

/** An etag-less target (settle: true) whose document another writer touches after every read, keeping ours. */
function busyTarget(onWrite: () => void = () => undefined) {
  let stored: string[] = [];
  let reads = 0;
  let writes = 0;
  const driver: TargetDriver<string[]> = {
    settle: true,
    async read() {
      reads += 1;
      // Someone else's entry changes every read: the settle loop keeps seeing another writer and waits again.
      return [...stored, `other:${reads}`];
    },
    plan(current, req) {
      const missing = req.grant.subjects.filter((s) => !current.includes(s));
      return { changed: missing.length > 0, added: missing, present: [], next: [...current, ...missing] };
    },
    owned: () => new Set(),
    async write(_current, next) {
      writes += 1;
      onWrite();
      stored = next.filter((s) => !s.startsWith('other:'));
    },
  };
  return { driver, counts: () => ({ reads, writes }) };
}

describe('Deadline', () => {
  it('counts down on the injected clock and caps waits by what is left', () => {
    const c = clock();
    const deadline = Deadline.in(5_000, c.now);
    expect(deadline.remainingMs()).toBe(5_000);
    expect(deadline.cap(10_000)).toBe(5_000);
    expect(deadline.earlier(1_000).remainingMs()).toBe(4_000);
    c.advance(4_500);
    expect(deadline.expired()).toBe(false);
    expect(deadline.expired(1_000)).toBe(true);
    c.advance(1_000);
    expect(deadline.remainingMs()).toBe(0);
    expect(Deadline.none(c.now).expired(1e12)).toBe(false);
  });
});

describe('settle waits', () => {
  it('stay within MAX_SETTLE_TOTAL_MS in all for one target, at the largest settleMs the config allows', async () => {
    const c = clock();
    const target = busyTarget();
    await reconcileTarget(target.driver, [request('a', 'ns-a')], {
      settleMs: 30_000,
      now: c.now,
      sleep: c.sleep,
      random: () => 1,
      baseDelayMs: 0,
    });
    const total = c.slept.reduce((sum, ms) => sum + ms, 0);
    // Uncapped: 2 + 4 + 8 windows of 30 s = 420 s.
    expect(total).toBeLessThanOrEqual(MAX_SETTLE_TOTAL_MS);
    expect(MAX_SETTLE_TOTAL_MS).toBe(60_000);
  });

  it('end by the deadline, and no write starts after it: the request is handed back as retryable', async () => {
    const c = clock();
    const target = busyTarget(() => c.advance(1_000));
    const deadline = Deadline.in(10_000, c.now);
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], {
      settleMs: 30_000,
      deadline,
      now: c.now,
      sleep: c.sleep,
      random: () => 1,
      baseDelayMs: 0,
    });
    expect(c.now()).toBeLessThanOrEqual(deadline.at);
    expect(outcomes.get('a')).toMatchObject({ status: 'granted' });
    expect(target.counts().writes).toBe(1);
  });

  it('refuses to write once the deadline has passed', async () => {
    const c = clock();
    const target = busyTarget();
    const deadline = Deadline.in(0, c.now);
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], {
      deadline,
      now: c.now,
      sleep: c.sleep,
    });
    expect(target.counts().writes).toBe(0);
    expect(outcomes.get('a')).toMatchObject({ status: 'failed', retryable: true });
    expect(outcomes.get('a')?.reason).toMatch(/ran out of time/);
  });
});

describe('invocationDeadline', () => {
  const settings = readSettings({ ASTRO_IDENTITY_SYNC_CONFIG: '{}' });

  it('keeps one request timeout and a second for reporting, or a fifth of a short budget', () => {
    const c = clock();
    expect(settings.timeouts).toEqual({ connectMs: 3_000, requestMs: 10_000 });
    expect(invocationDeadline(300_000, settings, c.now).remainingMs()).toBe(289_000);
    expect(invocationDeadline(2_000, settings, c.now).remainingMs()).toBe(1_600);
    expect(invocationDeadline(0, settings, c.now).expired()).toBe(true);
  });

  it('reads the timeouts and the function timeout from the environment, refusing nonsense', () => {
    const custom = readSettings({
      ASTRO_IDENTITY_SYNC_CONFIG: '{}',
      ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: '2500',
      ASTRO_IDENTITY_SYNC_CONNECT_TIMEOUT_MS: '500',
      ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S: '300',
    });
    expect(custom.timeouts).toEqual({ connectMs: 500, requestMs: 2_500 });
    expect(custom.functionTimeoutMs).toBe(300_000);
    expect(() =>
      readSettings({ ASTRO_IDENTITY_SYNC_CONFIG: '{}', ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS: '0' }),
    ).toThrow(/ASTRO_IDENTITY_SYNC_REQUEST_TIMEOUT_MS/);
  });
});
