import { randomBytes } from 'node:crypto';
import type { AzureFaultInjector } from './faults.ts';
import type { Reply } from './routing.ts';

/**
 * Key Vault's secrets data plane (`GET {vaultBaseUrl}/secrets/{name}[/{version}]?api-version=...`) for any number of
 * vaults on the emulator's one origin: vault `<v>` lives under `/keyvault/<v>`, so its base URL is
 * `https://127.0.0.1:<port>/keyvault/<v>` where Azure has `https://<v>.vault.azure.net`.
 *
 * Authentication is Key Vault's challenge, which `@azure/keyvault-secrets` performs on its own: a request without a
 * token answers 401 with `WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/<tenant>",
 * resource="https://vault.azure.net"`; the SDK then asks its credential for `https://vault.azure.net/.default` in
 * that tenant and repeats the request with the token. Error bodies are Key Vault's `{"error":{"code","message",
 * "innererror"?}}`; what the messages say follows what Key Vault answers.
 */

const PREFIX = '/keyvault/';
// Trailing slash allowed: the SDK asks for the current version as `/secrets/<name>/` (an empty version segment).
const ROUTE = /^\/keyvault\/([^/]+)\/secrets\/([^/]+)(?:\/([^/]*))?\/?$/;

/** Key Vault data-plane versions `@azure/keyvault-secrets` 4.12 can send (its `serviceVersion`). */
const KEY_VAULT_API_VERSIONS: readonly string[] = [
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6',
  '2025-07-01',
  '2026-04-01',
];
const LATEST_API_VERSION = '2026-04-01';

export interface KeyVaultRoute {
  vault: string;
  name: string;
  /** undefined: the current version. */
  version: string | undefined;
}

export interface PutVaultSecretOptions {
  /** Default true. A disabled version answers 403 with innererror `SecretDisabled`. */
  enabled?: boolean;
}

interface StoredVersion {
  version: string;
  value: string;
  enabled: boolean;
  created: number;
}

interface StoredSecret {
  /** As first written; Key Vault names are case-insensitive but keep their spelling. */
  name: string;
  /** Oldest first; the last one is the current version. */
  versions: StoredVersion[];
  denied: boolean;
}

interface StoredVault {
  secrets: Map<string, StoredSecret>;
  denied: boolean;
}

function keyVaultError(
  status: number,
  code: string,
  message: string,
  options: { innerCode?: string; headers?: Readonly<Record<string, string>> } = {},
): Reply {
  const error: Record<string, unknown> = { code, message };
  if (options.innerCode !== undefined) error.innererror = { code: options.innerCode };
  return { status, body: { error }, ...(options.headers ? { headers: options.headers } : {}) };
}

/** Whether the path belongs to the Key Vault routes at all (so it never falls through to ARM's 404). */
export function isKeyVaultPath(pathname: string): boolean {
  return pathname.startsWith(PREFIX);
}

function parseKeyVaultRoute(pathname: string): KeyVaultRoute | undefined {
  const match = ROUTE.exec(pathname);
  if (match === null) return undefined;
  try {
    const version = match[3] === undefined || match[3] === '' ? undefined : decodeURIComponent(match[3]);
    return {
      vault: decodeURIComponent(match[1] ?? '').toLowerCase(),
      name: decodeURIComponent(match[2] ?? ''),
      version,
    };
  } catch {
    return undefined;
  }
}

export class KeyVaultStore {
  readonly #vaults = new Map<string, StoredVault>();

  #vault(vaultName: string): StoredVault {
    const key = vaultName.toLowerCase();
    let vault = this.#vaults.get(key);
    if (vault === undefined) {
      vault = { secrets: new Map(), denied: false };
      this.#vaults.set(key, vault);
    }
    return vault;
  }

  /** Adds a new current version (32 lowercase hex digits, as Key Vault makes them) and returns it. */
  put(vaultName: string, name: string, value: string, options: PutVaultSecretOptions = {}): string {
    const vault = this.#vault(vaultName);
    const key = name.toLowerCase();
    let secret = vault.secrets.get(key);
    if (secret === undefined) {
      secret = { name, versions: [], denied: false };
      vault.secrets.set(key, secret);
    }
    const version = randomBytes(16).toString('hex');
    secret.versions.push({ version, value, enabled: options.enabled ?? true, created: Math.floor(Date.now() / 1000) });
    return version;
  }

  /** Takes the caller's Get permission away on one secret, or on the whole vault when `name` is undefined. */
  deny(vaultName: string, name: string | undefined, denied: boolean): void {
    const vault = this.#vault(vaultName);
    if (name === undefined) {
      vault.denied = denied;
      return;
    }
    const key = name.toLowerCase();
    const secret = vault.secrets.get(key) ?? { name, versions: [], denied: false };
    secret.denied = denied;
    vault.secrets.set(key, secret);
  }

  get(route: KeyVaultRoute): Reply {
    const vault = this.#vaults.get(route.vault);
    const secret = vault?.secrets.get(route.name.toLowerCase());
    // Key Vault authorizes before it looks the secret up: a caller without Get learns nothing about existence.
    if (vault?.denied || secret?.denied) return forbidden(route);
    const stored =
      route.version === undefined
        ? secret?.versions.at(-1)
        : secret?.versions.find((v) => v.version === route.version?.toLowerCase());
    if (secret === undefined || stored === undefined) {
      const id = route.version === undefined ? route.name : `${route.name}/${route.version}`;
      return keyVaultError(
        404,
        'SecretNotFound',
        `A secret with (name/id) ${id} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
      );
    }
    if (!stored.enabled) {
      return keyVaultError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', {
        innerCode: 'SecretDisabled',
      });
    }
    return {
      status: 200,
      body: {
        value: stored.value,
        // The identifier names the real vault host, as Key Vault's does; the SDK parses name and version from it.
        id: `https://${route.vault}.vault.azure.net/secrets/${secret.name}/${stored.version}`,
        attributes: {
          enabled: true,
          created: stored.created,
          updated: stored.created,
          recoveryLevel: 'Recoverable+Purgeable',
          recoverableDays: 90,
        },
      },
    };
  }
}

function forbidden(route: KeyVaultRoute): Reply {
  return keyVaultError(
    403,
    'Forbidden',
    'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
      `Caller: appid=00000000-0000-0000-0000-00000000a11c;oid=00000000-0000-0000-0000-00000000a11c\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'\r\n` +
      `Resource: '/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/astro-rg/providers/microsoft.keyvault/vaults/${route.vault}/secrets/${route.name.toLowerCase()}'\r\n` +
      `Assignment: (not found)\r\nDecisionReason: 'DeniedWithNoValidRBAC' \r\nVault: ${route.vault};location=eastus\r\n`,
    { innerCode: 'ForbiddenByRbac' },
  );
}

/**
 * One Key Vault request, in Key Vault's order: the bearer challenge, api-version, injected faults (429 / 5xx), then
 * the vault itself. Only GET (getSecret) is served.
 */
export function respondKeyVault(input: {
  method: string;
  pathname: string;
  apiVersion: string | null;
  authorization: string | undefined;
  token: string;
  tenantId: string;
  store: KeyVaultStore;
  faults: AzureFaultInjector;
}): { reply: Reply; route: KeyVaultRoute | undefined } {
  const route = parseKeyVaultRoute(input.pathname);
  const challenge = {
    'www-authenticate': `Bearer authorization="https://login.microsoftonline.com/${input.tenantId}", resource="https://vault.azure.net"`,
  };
  if (input.authorization === undefined) {
    const reply = keyVaultError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', {
      headers: challenge,
    });
    return { reply, route };
  }
  if (input.authorization !== `Bearer ${input.token}`) {
    // Real Key Vault names the failed check (audience, issuer, expiry); the emulator knows only one good token.
    const reply = keyVaultError(401, 'Unauthorized', 'The bearer token is not valid for this vault.', {
      headers: challenge,
    });
    return { reply, route };
  }
  const apiVersion = input.apiVersion ?? '';
  if (!KEY_VAULT_API_VERSIONS.includes(apiVersion)) {
    const message = `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`;
    return { reply: keyVaultError(400, 'BadParameter', message), route };
  }
  if (route === undefined || input.method !== 'GET') {
    const message = `The azure-emulator serves only GET {vault}/secrets/{name}[/{version}], not ${input.method} ${input.pathname}.`;
    return { reply: keyVaultError(route === undefined ? 404 : 405, 'BadParameter', message), route };
  }
  const fault = input.faults.pick('getSecret');
  if (fault === 'throttle') {
    const reply = keyVaultError(
      429,
      'Throttled',
      'Request was not processed because too many requests were received. Reason: A1',
      { headers: { 'retry-after': String(input.faults.retryAfterSeconds) } },
    );
    return { reply, route };
  }
  if (fault === 'server-error') {
    const status = input.faults.serverErrorStatus;
    const reply =
      status === 503
        ? keyVaultError(503, 'ServiceUnavailable', 'The service is temporarily unavailable.', {
            headers: { 'retry-after': String(input.faults.retryAfterSeconds) },
          })
        : keyVaultError(500, 'InternalServerError', 'An unexpected error occurred.');
    return { reply, route };
  }
  // 'conflict' is a write fault (the federated-credential 409); a read ignores it.
  return { reply: input.store.get(route), route };
}
