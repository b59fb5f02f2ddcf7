import { describe, expect, it } from 'vitest';
import { createTokenBucket, keyedTokenBuckets } from '../../functions/common/token-bucket.ts';
import { ValidationError } from '../../shared/errors.ts';
import { fakeClock, mostInWindow } from '../support/fake-clock.ts';

/** Fires `count` takes at the given offsets (ms after start) and records when each was granted. */
async function grants(
  take: () => Promise<void>,
  clock: ReturnType<typeof fakeClock>,
  arrivals: readonly number[],
): Promise<number[]> {
  const granted: number[] = [];
  for (const at of arrivals) {
    void clock.sleep(at).then(() => take().then(() => granted.push(clock.now())));
  }
  await clock.run();
  return granted;
}

describe('token bucket', () => {
  it('never grants more than its rate in any second, however the takes arrive', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 20, clock });
    // 100 at once, then a trickle, then another burst after a pause long enough to refill.
    const arrivals = [
      ...Array.from({ length: 100 }, () => 0),
      ...Array.from({ length: 30 }, (_, i) => 1000 + i * 7),
      ...Array.from({ length: 50 }, () => 20_000),
    ];
    const granted = await grants(() => bucket.take(), clock, arrivals);
    expect(granted).toHaveLength(arrivals.length);
    expect(mostInWindow(granted, 1000)).toBe(20);
    // Paced, not bunched: consecutive grants are a token's worth apart.
    const sorted = [...granted].sort((a, b) => a - b);
    const gaps = sorted.slice(1).map((t, i) => t - (sorted[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(50);
    // 130 takes from t=0 at 20/s finish at 6.45 s: the bucket waits no longer than it must.
    expect(sorted[129]).toBe(129 * 50);
  });

  it('with a burst, at most burst + rate * t in any window of t', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 10, burst: 5, clock });
    const granted = await grants(() => bucket.take(), clock, [
      ...Array.from({ length: 60 }, () => 0),
      ...Array.from({ length: 60 }, () => 30_000),
    ]);
    expect(granted).toHaveLength(120);
    expect(mostInWindow(granted, 1000)).toBeLessThanOrEqual(15);
    expect(mostInWindow(granted, 10_000)).toBeLessThanOrEqual(105);
    // A full bucket spends its burst at once.
    expect(granted.filter((t) => t === 0)).toHaveLength(5);
  });

  it('grants in call order', async () => {
    const clock = fakeClock();
    const bucket = createTokenBucket({ ratePerSecond: 3, clock });
    const order: number[] = [];
    const granted: number[] = [];
    for (let i = 0; i < 10; i++) {
      void bucket.take().then(() => {
        order.push(i);
        granted.push(clock.now());
      });
    }
    await clock.run();
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 1/3 s per token is not a whole number of ms: the pacing rounds up, never down.
    expect(mostInWindow(granted, 1000)).toBe(3);
  });

  it('keeps one bucket per key', async () => {
    const clock = fakeClock();
    const buckets = keyedTokenBuckets({ ratePerSecond: 10, clock });
    const byKey: Record<string, number[]> = { a: [], b: [] };
    for (let i = 0; i < 30; i++) {
      for (const key of ['a', 'b']) void buckets.take(key).then(() => byKey[key]?.push(clock.now()));
    }
    await clock.run();
    // Each project gets its own 10 per second; one busy key does not slow the other.
    expect(mostInWindow(byKey.a ?? [], 1000)).toBe(10);
    expect(mostInWindow(byKey.b ?? [], 1000)).toBe(10);
    expect(clock.now()).toBe(2900);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a rate of %d', (rate) => {
    expect(() => createTokenBucket({ ratePerSecond: rate })).toThrow(ValidationError);
  });
});
