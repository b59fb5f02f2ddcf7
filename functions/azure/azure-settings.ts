import type { ManagedServiceIdentityClientOptionalParams } from '@azure/arm-msi';
import { ValidationError } from '../../shared/errors.ts';
import type { Env } from '../common/function-runtime.ts';

/** How the ARM client is built; read once per cold start from the function's environment. */
export interface AzureClientSettings {
  /** ARM endpoint override (the local emulator, a sovereign cloud); undefined: https://management.azure.com. */
  readonly endpoint: string | undefined;
  /** PEM of a CA to trust instead of the public ones (the emulator's self-signed certificate). */
  readonly ca: string | undefined;
  /** A fixed bearer token instead of DefaultAzureCredential (local stack and tests only). */
  readonly token: string | undefined;
  readonly retryOptions: RetryOptions;
}

/** core-rest-pipeline's retry options, named through the client so no transitive package is imported. */
export type RetryOptions = NonNullable<ManagedServiceIdentityClientOptionalParams['retryOptions']>;

export const AZURE_ENV = {
  endpoint: 'ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT',
  ca: 'ASTRO_IDENTITY_SYNC_AZURE_CA',
  token: 'ASTRO_IDENTITY_SYNC_AZURE_TOKEN',
  retryDelayMs: 'ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS',
  maxRetries: 'ASTRO_IDENTITY_SYNC_AZURE_MAX_RETRIES',
} as const;

/**
 * The SDK retries 5xx and network errors with exponential backoff and 429/503 after their Retry-After. Three retries
 * starting at one second (capped at 16 s per wait) ride out a short ARM hiccup while keeping a synchronous webhook
 * well inside the 230 s front-end timeout; anything longer is the platform's job (queue redelivery).
 */
const DEFAULT_RETRY: Required<RetryOptions> = { maxRetries: 3, retryDelayInMs: 1000, maxRetryDelayInMs: 16_000 };

function integer(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`must be an integer from ${min} to ${max}`, { field: name, code: 'invalid_config' });
  }
  return value;
}

export function readAzureClientSettings(env: Env): AzureClientSettings {
  const endpoint = env[AZURE_ENV.endpoint]?.trim() || undefined;
  if (endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {
      url = undefined;
    }
    // The SDK refuses to send a bearer token over plain HTTP, so an http:// endpoint could never work.
    if (url?.protocol !== 'https:' || url.username !== '' || url.password !== '') {
      throw new ValidationError('must be an https:// URL without credentials', {
        field: AZURE_ENV.endpoint,
        code: 'invalid_config',
      });
    }
  }
  const retryDelayInMs = integer(env, AZURE_ENV.retryDelayMs, 0, 60_000) ?? DEFAULT_RETRY.retryDelayInMs;
  return {
    endpoint: endpoint?.replace(/\/+$/, ''),
    ca: env[AZURE_ENV.ca]?.trim() || undefined,
    token: env[AZURE_ENV.token]?.trim() || undefined,
    retryOptions: {
      maxRetries: integer(env, AZURE_ENV.maxRetries, 0, 10) ?? DEFAULT_RETRY.maxRetries,
      retryDelayInMs,
      maxRetryDelayInMs: Math.max(retryDelayInMs, DEFAULT_RETRY.maxRetryDelayInMs),
    },
  };
}
