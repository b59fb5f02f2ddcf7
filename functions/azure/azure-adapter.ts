import type { TokenCredential } from '@azure/identity';
import { azureIdentityKind } from '../../shared/plan/azure/identity-kind.ts';
import { registerKind } from '../../shared/reconcile/target-kind.ts';
import type { CloudAdapter } from '../common/cloud-adapter.ts';
import { federatedCredentialsIo } from './federated-credentials-io.ts';
import { createAzureSecretResolver } from './key-vault-resolver.ts';
import { armRetryOptions, azureCredential, createMsiClients, type MsiClients } from './msi-clients.ts';
import { classifyArmError } from './msi-errors.ts';

export interface AzureClients {
  /** The per-subscription ARM clients (cached). */
  readonly msi: MsiClients;
  readonly credential: () => TokenCredential;
}

/**
 * Azure Functions: the ARM client for federated identity credentials, with DefaultAzureCredential (the function
 * app's managed identity). Secrets are `env:NAME` (Key Vault references in app settings are resolved by the
 * platform into environment variables before the function starts) or `azure-kv:` references read at cold start.
 */
export const azureAdapter: CloudAdapter<AzureClients> = {
  cloud: 'azure',
  clients(settings) {
    const credential = azureCredential(settings);
    return { msi: createMsiClients(settings, credential), credential };
  },
  // The same credential as the ARM client; the local stack's Key Vault routes sit behind the emulator's certificate.
  secrets: (clients, settings) => {
    const { keyVaultEndpoint, ca } = settings.azure;
    return createAzureSecretResolver(settings.env, {
      credential: clients.credential(),
      retryOptions: armRetryOptions(settings),
      requestTimeoutMs: settings.timeouts.requestMs,
      ...(keyVaultEndpoint === undefined
        ? {}
        : { endpoint: keyVaultEndpoint, ...(ca === undefined ? {} : { tlsOptions: { ca } }) }),
    });
  },
  classify: classifyArmError,
  targets: (clients, config) => [
    registerKind(azureIdentityKind(config.azure.maxCredentials), (target) =>
      federatedCredentialsIo(clients.msi(target.subscriptionId), target),
    ),
  ],
};
