import { StandardRetryStrategy } from '@smithy/core/retry';

/**
 * The SDK's standard retries for IAM reads and single-resource writes (GetRole, the OIDC provider calls), except for
 * LimitExceededException, which the SDK classifies as throttling although retrying cannot help (a quota). Trust-policy
 * writes get no SDK retry at all (see trustPolicyIo): measured against the emulator, an over-quota write was sent 3
 * times by default and once with this strategy.
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
