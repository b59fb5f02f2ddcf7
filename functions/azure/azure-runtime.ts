import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../shared/config.ts';
import type { DriverFactory } from '../../shared/reconcile/process-batch.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import {
  buildFunctionRuntime,
  createEnvSecretResolver,
  type Env,
  type FunctionRuntime,
  readConfig,
} from '../common/function-runtime.ts';
import type { PipelineLogger } from '../common/pipeline.ts';
import { type AzureClientSettings, type RetryOptions, readAzureClientSettings } from './azure-settings.ts';
import { createFederatedCredentialsDriver } from './federated-credentials-driver.ts';
import { createMsiClients, type MsiClients } from './msi-clients.ts';

export type { Env } from '../common/function-runtime.ts';

/** Everything the Azure handlers need, built once per cold start from an explicit environment. */
export interface AzureRuntime extends FunctionRuntime {
  readonly settings: AzureClientSettings;
  /** The per-subscription ARM clients (cached). */
  readonly msi: MsiClients;
}

export interface AzureRuntimeOverrides {
  /** Replaces DefaultAzureCredential / the static token (tests). */
  readonly credential?: TokenCredential;
  /** Replaces the retry options read from the environment (tests that must stay fast). */
  readonly retryOptions?: RetryOptions;
}

/**
 * Config text comes from ASTRO_IDENTITY_SYNC_CONFIG, or `env:OTHER_SETTING` names the app setting that holds it (for
 * example one filled by a Key Vault reference). Secrets are `env:NAME`: Key Vault references in app settings are
 * resolved by the platform into environment variables before the function starts.
 */
const CONFIG_REFERENCE = /^env:[A-Za-z_][A-Za-z0-9_]*$/;

export async function loadAzureRuntime(
  env: Env,
  logger: PipelineLogger,
  overrides: AzureRuntimeOverrides = {},
): Promise<AzureRuntime> {
  const read = readAzureClientSettings(env);
  const settings = overrides.retryOptions === undefined ? read : { ...read, retryOptions: overrides.retryOptions };
  const resolve = createEnvSecretResolver(env, 'Azure');
  const config = await readConfig(env, resolve, CONFIG_REFERENCE);
  const msi = createMsiClients(
    settings,
    overrides.credential === undefined ? {} : { credential: overrides.credential },
  );
  const runtime = await buildFunctionRuntime({
    config,
    env,
    resolve,
    logger,
    drivers: { azure: azureDriverFactory(msi, config) },
  });
  return { ...runtime, settings, msi };
}

export function azureDriverFactory(msi: MsiClients, config: Config): DriverFactory {
  return (target) => {
    if (target.cloud !== 'azure') throw new Error(`not an Azure target: ${target.id}`);
    return createFederatedCredentialsDriver(msi(target.subscriptionId), target, {
      maxCredentials: config.azure.maxCredentials,
    }) as TargetDriver<unknown>;
  };
}
