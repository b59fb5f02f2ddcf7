import { ManagedServiceIdentityClient, type ManagedServiceIdentityClientOptionalParams } from '@azure/arm-msi';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { Settings } from '../common/env-settings.ts';
import { requestTimeoutPolicy } from './request-timeout-policy.ts';
import { timedHttpClient } from './timed-http-client.ts';

/** One ARM client per subscription, created on first use and kept for the life of the instance. */
export type MsiClients = (subscriptionId: string) => ManagedServiceIdentityClient;

/** core-rest-pipeline's retry options, named through the client so no transitive package is imported. */
type RetryOptions = NonNullable<ManagedServiceIdentityClientOptionalParams['retryOptions']>;
/**
 * The SDK retries 5xx and network errors with exponential backoff and 429/503 after their Retry-After. Three retries
 * starting at one second (capped at 16 s per wait) ride out a short ARM hiccup while keeping a synchronous webhook
 * well inside the 230 s front-end timeout; anything longer is the platform's job (queue redelivery).
 */
export function armRetryOptions(settings: Settings): Required<RetryOptions> {
  const retryDelayInMs = settings.azure.retryDelayMs ?? 1000;
  return {
    maxRetries: settings.azure.maxRetries ?? 3,
    retryDelayInMs,
    maxRetryDelayInMs: Math.max(retryDelayInMs, 16_000),
  };
}

/** A credential that always answers the same token: enough for the emulator, which checks one fixed bearer. */
function staticTokenCredential(token: string): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

/**
 * The credential for every Azure client: DefaultAzureCredential picks the function app's managed identity
 * (AZURE_CLIENT_ID selects a user-assigned one) or `az login` on a workstation; the emulator takes a fixed token.
 * Its token requests time out like every other call (see timed-http-client.ts).
 * Made on first use, so a function that never calls Azure never probes for credentials.
 */
export function azureCredential(settings: Settings): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => {
    credential ??=
      settings.azure.token === undefined
        ? new DefaultAzureCredential({ httpClient: timedHttpClient(settings.timeouts.requestMs) })
        : staticTokenCredential(settings.azure.token);
    return credential;
  };
}

/**
 * Builds the per-subscription client cache. A client owns its HTTP pipeline and connection pool, and the credential
 * caches its token, so both are made once per cold start instead of once per event: the Functions host keeps the
 * instance warm and concurrent invocations share them.
 */
export function createMsiClients(settings: Settings, credential: () => TokenCredential): MsiClients {
  const clients = new Map<string, ManagedServiceIdentityClient>();
  const { endpoint, ca } = settings.azure;
  return (subscriptionId) => {
    const key = subscriptionId.toLowerCase();
    const cached = clients.get(key);
    if (cached !== undefined) return cached;
    const client = new ManagedServiceIdentityClient(credential(), subscriptionId, {
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(ca === undefined ? {} : { tlsOptions: { ca } }),
      retryOptions: armRetryOptions(settings),
      additionalPolicies: [requestTimeoutPolicy(settings.timeouts.requestMs)],
      userAgentOptions: { userAgentPrefix: 'astro-identity-sync' },
    });
    clients.set(key, client);
    return client;
  };
}
