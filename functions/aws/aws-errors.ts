import { type IdentitySyncError, TargetError, UnavailableError } from '../../shared/errors.ts';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * The AWS adapter's error classification for what a driver did not explain: after the SDK's own retries, throttling,
 * a 5xx or no answer at all is an outage (retry later); anything else is a refusal a person must look at.
 */
export function classifyAwsError(error: unknown): IdentitySyncError | undefined {
  // Only the SDK's own errors carry $metadata; anything else is a bug and answers 500.
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const e = error as SdkError;
  const status = e.$metadata?.httpStatusCode ?? 0;
  const name = e.name ?? 'Error';
  const detail = `${name}: ${e.message ?? ''}`.trim();
  if (status === 0 || status === 429 || status >= 500 || /Throttl|TooManyRequests|RequestLimitExceeded/.test(name)) {
    return new UnavailableError(`an AWS call did not succeed after retries (${detail})`, { cause: error });
  }
  return new TargetError(`an AWS call was refused (${detail})`, { retryable: false, cause: error });
}
