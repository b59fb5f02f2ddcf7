import type { Clock } from '../../functions/common/token-bucket.ts';

/**
 * A clock that moves only when told: `run()` lets every pending promise settle, then jumps to the earliest sleeper
 * and wakes it, until nothing sleeps. Pacing is checked against this time, never against the wall clock.
 */
export interface FakeClock extends Clock {
  /** Runs until no promise is pending and nobody sleeps; returns the time reached. */
  run(): Promise<number>;
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function fakeClock(start = 0): FakeClock {
  let now = start;
  const sleepers: Array<{ at: number; wake: () => void }> = [];
  return {
    now: () => now,
    sleep(ms) {
      return new Promise<void>((wake) => {
        sleepers.push({ at: now + ms, wake });
      });
    },
    async run() {
      for (;;) {
        await settle();
        if (sleepers.length === 0) return now;
        sleepers.sort((a, b) => a.at - b.at);
        const next = sleepers.shift();
        if (next === undefined) return now;
        now = Math.max(now, next.at);
        next.wake();
      }
    },
  };
}

/** The most events in any window of `windowMs` (half-open: [t, t + windowMs)). */
export function mostInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while ((sorted[last] as number) - (sorted[first] as number) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/**
 * A clock whose `sleep` moves time forward at once: for one caller at a time (a single pacing queue), whose real
 * work (HTTP to an emulator that reads the same clock) takes no virtual time.
 */
export function jumpingClock(start = 0): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep(ms) {
      now += ms;
      return Promise.resolve();
    },
    advance(ms) {
      now += ms;
    },
  };
}
