import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { AzureClientSettings } from './azure-settings.ts';

/** One ARM client per subscription, created on first use and kept for the life of the instance. */
export type MsiClients = (subscriptionId: string) => ManagedServiceIdentityClient;

/** A credential that always answers the same token: enough for the emulator, which checks one fixed bearer. */
export function staticTokenCredential(token: string): TokenCredential {
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
}

/**
 * Builds the per-subscription client cache. A client owns its HTTP pipeline and connection pool, and the credential
 * caches its token, so both are made once per cold start instead of once per event: the Functions host keeps the
 * instance warm and concurrent invocations share them.
 */
export function createMsiClients(
  settings: AzureClientSettings,
  options: { credential?: TokenCredential } = {},
): MsiClients {
  let credential = options.credential;
  const clients = new Map<string, ManagedServiceIdentityClient>();
  return (subscriptionId) => {
    const key = subscriptionId.toLowerCase();
    const cached = clients.get(key);
    if (cached !== undefined) return cached;
    // DefaultAzureCredential picks the function app's managed identity (AZURE_CLIENT_ID selects a user-assigned one).
    credential ??= settings.token === undefined ? new DefaultAzureCredential() : staticTokenCredential(settings.token);
    const client = new ManagedServiceIdentityClient(credential, subscriptionId, {
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      ...(settings.ca === undefined ? {} : { tlsOptions: { ca: settings.ca } }),
      retryOptions: settings.retryOptions,
      userAgentOptions: { userAgentPrefix: 'astro-identity-sync' },
    });
    clients.set(key, client);
    return client;
  };
}
