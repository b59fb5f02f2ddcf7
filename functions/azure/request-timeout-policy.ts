import type { ManagedServiceIdentityClientOptionalParams } from '@azure/arm-msi';

/** One entry of core-client's `additionalPolicies`, named the same way. */
export type AdditionalPolicy = NonNullable<ManagedServiceIdentityClientOptionalParams['additionalPolicies']>[number];

/**
 * Sets core-rest-pipeline's per-request `timeout` (default 0: wait forever) on every attempt, so an ARM or Key Vault
 * endpoint that accepts and never answers fails the attempt instead of the whole invocation. The HTTP client then
 * aborts with an AbortError, which the retry policy does not retry: the caller reports it as retryable and the queue
 * delivers the event again. There is no separate connection timeout in the pipeline; this one covers it.
 */
export function requestTimeoutPolicy(timeoutMs: number): AdditionalPolicy {
  return {
    position: 'perRetry',
    policy: {
      name: 'astroIdentitySyncRequestTimeout',
      sendRequest(request, next) {
        if (!(request.timeout > 0)) request.timeout = timeoutMs;
        return next(request);
      },
    },
  };
}
