import pRetry from 'p-retry';

interface RetryOptions {
  /** Retries after the first attempt. */
  readonly retries: number;
  /** First backoff; doubled per retry with full jitter, capped at `maxTimeoutMs`. */
  readonly minTimeoutMs: number;
  readonly maxTimeoutMs?: number;
  /** Whether this failure is worth another attempt; anything else is thrown at once. */
  readonly retryable: (error: unknown) => boolean;
  /**
   * How long the other side asked us to wait (Retry-After), waited on top of the backoff. Returning more than
   * `maxTimeoutMs` gives up instead: waiting less would only earn another refusal.
   */
  readonly waitMs?: (error: unknown) => number | undefined;
  /** Told about every failed attempt that will be retried (for a log line). */
  readonly onRetry?: (error: unknown, attempt: number) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one retry loop of the edges, on p-retry: bounded attempts, exponential backoff with jitter, no retry of what
 * cannot heal, and Retry-After honoured up to a cap. The SDKs retry their own transport; this is for what they do
 * not cover (EventBridge's per-entry failures, Slack incoming webhooks, Azure's per-identity write lock, the Astro
 * API over fetch).
 */
export function withRetries<T>(work: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const maxTimeout = options.maxTimeoutMs ?? 30_000;
  return pRetry(work, {
    retries: options.retries,
    minTimeout: options.minTimeoutMs,
    maxTimeout,
    factor: 2,
    randomize: true,
    shouldRetry: ({ error }) => {
      if (!options.retryable(error)) return false;
      const asked = options.waitMs?.(error);
      return asked === undefined || asked <= maxTimeout;
    },
    onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft === 0 || !options.retryable(error)) return;
      const asked = options.waitMs?.(error);
      if (asked !== undefined && asked > maxTimeout) return;
      options.onRetry?.(error, attemptNumber);
      if (asked !== undefined && asked > 0) await sleep(asked);
    },
  });
}
