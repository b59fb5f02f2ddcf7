import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { SecretClient, SecretClientOptions } from '@azure/keyvault-secrets';
import type { SecretResolver } from '../common/cloud-adapter.ts';
import type { Env } from '../common/env-settings.ts';
import { SecretReadError, secretResolver } from '../common/secret-store.ts';
import { requestTimeoutPolicy } from './request-timeout-policy.ts';

/**
 * Resolves `env:NAME` and `azure-kv:https://<vault>.vault.azure.net/secrets/<name>[/<version>]` (no version: the
 * current one) with `@azure/keyvault-secrets`. The SDK runs Key Vault's challenge authentication itself: a first
 * request without a token, a 401 naming the tenant and the resource, then a token for
 * `https://vault.azure.net/.default` (`.cn` / `.usgovcloudapi.net` in the sovereign clouds). It also retries 429,
 * 5xx and network failures with backoff (3 retries by default).
 *
 * The Azure adapter (azure-adapter.ts) builds one per cold start with the ARM client's credential; the local stack
 * sets ASTRO_IDENTITY_SYNC_AZURE_KEY_VAULT_ENDPOINT to the Azure emulator's Key Vault routes.
 *
 * One resolver per cold start: it keeps one `SecretClient` per vault (each owns a pipeline, a connection pool and
 * a token cache) and every value it read for its own life, so a secret referenced twice costs one call; a secret
 * rotated later is picked up by the next instance, as with Key Vault references in app settings. The function
 * app's identity needs the "Key Vault Secrets User" role on each vault (or secret), or a Get access policy.
 *
 * Nothing here logs, and no message carries a value or a token; errors are `ValidationError`s with code
 * `invalid_config` that name the config field and what to fix.
 */

export type KeyVaultRetryOptions = NonNullable<SecretClientOptions['retryOptions']>;

export interface AzureSecretResolverOptions {
  /** Default `DefaultAzureCredential` (the function app's managed identity), created on the first `azure-kv:`. */
  credential?: TokenCredential;
  /**
   * The local emulator's Key Vault base URL (`AzureEmulator.keyVaultEndpoint`). One local origin stands in for every
   * vault, so the vault name moves from the host into the path: `https://<vault>.vault.azure.net` is reached at
   * `<endpoint>/<vault>`. Setting it also turns off the SDK's check that the challenge's resource matches the
   * vault's domain (127.0.0.1 is not under vault.azure.net); without it that check stays on.
   */
  endpoint?: string;
  /** With `endpoint` only: the CA to trust (the emulator's self-signed certificate). */
  tlsOptions?: { ca: string };
  /** The SDK's retry policy; default 3 retries from 800 ms. */
  retryOptions?: KeyVaultRetryOptions;
  /** Per-attempt limit in ms (core-rest-pipeline's default is none). */
  requestTimeoutMs?: number;
}

interface AzureSecretRef {
  vaultName: string;
  /** `https://<vault>.<suffix>` as written in the reference. */
  vaultUrl: string;
  name: string;
  /** 32 hex digits; undefined: the current version. */
  version: string | undefined;
}

// Same grammar as SECRET_REF in shared/config.ts: vault names are 3-24 letters, digits and single hyphens, starting
// with a letter and ending with a letter or digit; secret names 1-127 letters, digits and hyphens. A trailing slash
// is accepted because Key Vault references copied from the portal (`SecretUri=...`) often carry one.
const AZURE_REF =
  /^azure-kv:https:\/\/((?=[A-Za-z0-9-]{3,24}\.)[A-Za-z](?:-?[A-Za-z0-9])+)\.(vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net)\/secrets\/([0-9A-Za-z-]{1,127})(?:\/([0-9a-fA-F]{32}))?\/?$/;

const AZURE_REF_FORM =
  'azure-kv:https://<vault>.vault.azure.net/secrets/<name>, optionally followed by /<32-hex-digit version> (vault.azure.cn and vault.usgovcloudapi.net for sovereign clouds)';

/** The parts of an `azure-kv:` reference, or undefined when it is not one in the accepted form. */
export function parseAzureSecretRef(ref: string): AzureSecretRef | undefined {
  const match = AZURE_REF.exec(ref);
  if (match === null) return undefined;
  const [, vaultName = '', suffix = '', name = '', version] = match;
  return { vaultName, vaultUrl: `https://${vaultName}.${suffix}`, name, version: version?.toLowerCase() };
}

/** A failed read, before it is tied to a config field (one cached read can serve several fields). */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `details.error.innerError.code` of a Key Vault RestError (`ForbiddenByRbac`, `SecretDisabled`, ...). */
function innerCode(error: Record<string, unknown>): string | undefined {
  const details = isRecord(error.details) ? error.details : undefined;
  const body = isRecord(details?.error) ? details.error : undefined;
  const inner = isRecord(body?.innerError) ? body.innerError : undefined;
  return typeof inner?.code === 'string' ? inner.code : undefined;
}

function short(value: unknown): string {
  return String(value).slice(0, 300);
}

function classify(error: unknown, ref: AzureSecretRef): SecretReadError {
  const secret = `secret ${ref.name}${ref.version ? ` version ${ref.version}` : ''} in vault ${ref.vaultName}`;
  if (!isRecord(error)) return new SecretReadError(`reading ${secret} failed: ${short(error)}`);
  const name = typeof error.name === 'string' ? error.name : 'Error';
  // @azure/identity's failures: no managed identity, a wrong AZURE_CLIENT_ID, Entra ID refusing the request.
  if (
    name === 'CredentialUnavailableError' ||
    name === 'AuthenticationError' ||
    name === 'AggregateAuthenticationError'
  ) {
    return new SecretReadError(
      `cannot get a token for Key Vault (${name}): enable a managed identity on the function app (AZURE_CLIENT_ID selects a user-assigned one); ${short(error.message)}`,
    );
  }
  const status = typeof error.statusCode === 'number' ? error.statusCode : undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  const answer = [status, code].filter((part) => part !== undefined).join(' ');
  if (status === undefined) {
    // No HTTP answer: DNS, TLS, a refused connection, or the SDK refusing the vault's challenge before sending.
    const detail = code ?? `${name}: ${short(error.message)}`;
    return new SecretReadError(
      `could not reach Key Vault ${ref.vaultUrl} (${detail}): check the vault name and the function app's network access to it; retry`,
    );
  }
  if (status === 403 && innerCode(error) === 'SecretDisabled') {
    return new SecretReadError(`${secret} is disabled (${answer}): enable it, or reference an enabled version`);
  }
  if (status === 403) {
    return new SecretReadError(
      `Key Vault denied the function app's identity access to ${secret} (${answer}): assign it the "Key Vault Secrets User" role on the vault (or on the secret), or, for a vault using access policies, an access policy with Get on secrets`,
    );
  }
  if (status === 404) {
    const what = ref.version
      ? `version ${ref.version} of secret ${ref.name} does not exist in vault ${ref.vaultName}`
      : `vault ${ref.vaultName} has no secret ${ref.name}`;
    return new SecretReadError(`${what} (${answer}): create it or fix the reference`);
  }
  if (status === 401) {
    return new SecretReadError(
      `Key Vault ${ref.vaultName} refused the function app's token (${answer}): check its managed identity and that the vault belongs to the identity's tenant`,
    );
  }
  if (status === 429 || status >= 500) {
    return new SecretReadError(
      `Key Vault ${ref.vaultName} answered ${answer} reading ${secret}, after the SDK's retries: this is on Key Vault's side, not in the config; retry`,
    );
  }
  return new SecretReadError(`Key Vault ${ref.vaultName} refused to read ${secret} (${answer})`);
}

export function createAzureSecretResolver(env: Env, options: AzureSecretResolverOptions = {}): SecretResolver {
  if (options.tlsOptions !== undefined && options.endpoint === undefined) {
    // Trusting an extra CA for the real vault.azure.net would only widen who can impersonate it.
    throw new Error('createAzureSecretResolver: tlsOptions is for the local endpoint override only');
  }
  const endpoint = options.endpoint?.replace(/\/+$/, '');
  let credential = options.credential;
  const clients = new Map<string, SecretClient>();

  async function clientFor(ref: AzureSecretRef): Promise<SecretClient> {
    const vaultUrl = endpoint === undefined ? ref.vaultUrl.toLowerCase() : `${endpoint}/${ref.vaultName.toLowerCase()}`;
    const cached = clients.get(vaultUrl);
    if (cached !== undefined) return cached;
    // The Key Vault SDK (about 23 KiB minified) loads on the first azure-kv: reference: most configs have none.
    const { SecretClient } = await import('./key-vault-client.ts');
    const raced = clients.get(vaultUrl);
    if (raced !== undefined) return raced;
    credential ??= new DefaultAzureCredential();
    const client = new SecretClient(vaultUrl, credential, {
      ...(endpoint === undefined ? {} : { disableChallengeResourceVerification: true }),
      ...(endpoint === undefined || options.tlsOptions === undefined ? {} : { tlsOptions: options.tlsOptions }),
      ...(options.retryOptions === undefined ? {} : { retryOptions: options.retryOptions }),
      ...(options.requestTimeoutMs === undefined
        ? {}
        : { additionalPolicies: [requestTimeoutPolicy(options.requestTimeoutMs)] }),
      userAgentOptions: { userAgentPrefix: 'astro-identity-sync' },
    });
    clients.set(vaultUrl, client);
    return client;
  }

  async function read(ref: AzureSecretRef): Promise<string> {
    let value: string | undefined;
    try {
      const secret = await (await clientFor(ref)).getSecret(
        ref.name,
        ref.version === undefined ? {} : { version: ref.version },
      );
      value = secret.value;
    } catch (error) {
      // The SDK's error is not passed on as the cause: it holds the request, whose headers carry the token.
      throw classify(error, ref);
    }
    if (value === undefined || value.trim() === '') {
      throw new SecretReadError(`secret ${ref.name} in vault ${ref.vaultName} is empty`);
    }
    return value.trim();
  }

  return secretResolver(env, {
    cloud: 'Azure',
    scheme: 'azure-kv:',
    form: AZURE_REF_FORM,
    parse: parseAzureSecretRef,
    // Vault hosts and secret names are case-insensitive in Key Vault.
    key: (parsed) => `${parsed.vaultUrl.toLowerCase()}/secrets/${parsed.name.toLowerCase()}/${parsed.version ?? ''}`,
    read,
  });
}
