import { ValidationError } from '../../shared/errors.ts';

/**
 * A token bucket: `take()` resolves when a token is free, in call order. Tokens come back at `ratePerSecond`; the
 * bucket holds at most `burst` of them, so in any window of `t` seconds at most `burst + ratePerSecond * t` takes
 * resolve (with the default burst of 1, never more than `ratePerSecond` in any one second). It paces requests before
 * they are sent, unlike a sleep after each answer, which would waste the time the answer took. No package in the
 * dependencies does this (p-limit bounds concurrency, not rate), and it is a dozen lines.
 */

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface TokenBucketOptions {
  ratePerSecond: number;
  /** Tokens an idle bucket saves up. Default 1. */
  burst?: number;
  clock?: Clock;
}

export interface TokenBucket {
  take(): Promise<void>;
}

export function createTokenBucket(options: TokenBucketOptions): TokenBucket {
  const { ratePerSecond } = options;
  const burst = options.burst ?? 1;
  const clock = options.clock ?? systemClock;
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new ValidationError(`must be a positive number, got ${ratePerSecond}`, {
      field: 'ratePerSecond',
      code: 'invalid_config',
    });
  }
  if (!Number.isInteger(burst) || burst < 1) {
    throw new ValidationError(`must be a positive integer, got ${burst}`, { field: 'burst', code: 'invalid_config' });
  }
  const msPerToken = 1000 / ratePerSecond;
  let tokens = burst;
  let updatedAt = clock.now();
  // One waiter at a time, in call order: a late caller cannot take the token an earlier one is waiting for.
  let queue: Promise<void> = Promise.resolve();

  function refill(): void {
    const now = clock.now();
    tokens = Math.min(burst, tokens + (now - updatedAt) / msPerToken);
    updatedAt = now;
  }

  async function takeOne(): Promise<void> {
    refill();
    while (tokens < 1) {
      await clock.sleep(Math.max(1, Math.ceil((1 - tokens) * msPerToken)));
      refill();
    }
    tokens -= 1;
  }

  return {
    take() {
      const turn = queue.then(takeOne);
      queue = turn.catch(() => undefined);
      return turn;
    },
  };
}

/** One token bucket per key (a quota, say), created on first use. */
export function keyedTokenBuckets(options: TokenBucketOptions): { take(key: string): Promise<void> } {
  const buckets = new Map<string, TokenBucket>();
  return {
    take(key) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        bucket = createTokenBucket(options);
        buckets.set(key, bucket);
      }
      return bucket.take();
    },
  };
}
