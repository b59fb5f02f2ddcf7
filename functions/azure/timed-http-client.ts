import { createDefaultHttpClient, type HttpClient } from '@azure/core-rest-pipeline';

/**
 * The Azure SDK's own HTTP client with a per-request timeout (core-rest-pipeline's default is 0: wait forever), for
 * the credential. ManagedIdentityCredential replaces any `additionalPolicies` it is given with its own retry policy,
 * so the timeout policy the ARM and Key Vault clients carry (request-timeout-policy.ts) never reaches the App Service
 * identity endpoint; the HTTP client is the one option it passes through. A token endpoint that accepts and never
 * answers then fails the token request instead of holding the invocation to its timeout.
 */
export function timedHttpClient(timeoutMs: number, inner: HttpClient = createDefaultHttpClient()): HttpClient {
  return {
    sendRequest(request) {
      if (!(request.timeout > 0)) request.timeout = timeoutMs;
      return inner.sendRequest(request);
    },
  };
}
