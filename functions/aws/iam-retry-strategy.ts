import { StandardRetryStrategy } from '@smithy/core/retry';

/**
 * The SDK's standard retries, except for IAM's trust-policy quota error. IAM names it LimitExceededException, which
 * the SDK classifies as throttling, so by default an over-quota write is sent three times with seconds of backoff and
 * can never succeed. Measured against the emulator: 3 calls by default, 1 with this strategy.
 */
export class IamRetryStrategy extends StandardRetryStrategy {
  override async refreshRetryTokenForRetry(
    token: Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>[0],
    info: Parameters<StandardRetryStrategy['refreshRetryTokenForRetry']>[1],
  ) {
    if (info.error?.name === 'LimitExceededException') throw info.error;
    return super.refreshRetryTokenForRetry(token, info);
  }
}
