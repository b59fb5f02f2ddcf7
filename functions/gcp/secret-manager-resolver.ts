import { GoogleAuth, type gaxios } from 'google-auth-library';
import type { SecretResolver } from '../common/cloud-adapter.ts';
import type { Env } from '../common/env-settings.ts';
import { withRetries } from '../common/retry.ts';
import { SecretReadError, secretResolver } from '../common/secret-store.ts';
import { crc32c } from './crc32c.ts';

/**
 * Resolves `env:NAME` and `gcp-sm:projects/<project>/secrets/<secret>[/versions/<version>]` (default `latest`)
 * through the Secret Manager v1 REST API (`GET {rootUrl}v1/<name>:access`), checking the payload's CRC32C.
 * REST through google-auth-library rather than `@google-cloud/secret-manager`: that client is gRPC and would
 * multiply the function bundle for one GET per secret per cold start.
 *
 * The GCP adapter (gcp-adapter.ts) builds one per cold start with the function's own credentials; the local stack
 * points `rootUrl` at the GCP emulator, which serves Secret Manager beside IAM.
 *
 * Make one resolver per cold start and pass the same one everywhere: it caches every value it read for its own
 * life, so a secret referenced twice (or a config read again) costs one call. A secret rotated after the cold start
 * is picked up by the next instance, as with secrets mounted as environment variables. The runtime service account
 * needs `roles/secretmanager.secretAccessor` on each referenced secret (not on the project).
 *
 * Nothing here logs, and no message carries a value or the access token; errors are `ValidationError`s with code
 * `invalid_config` that name the config field and what to fix.
 */

const SECRET_MANAGER_ROOT_URL = 'https://secretmanager.googleapis.com/';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** What the resolver needs from google-auth-library: `GoogleAuth`, an `OAuth2Client` or any other `AuthClient`. */
export interface GoogleAuthRequester {
  request<T>(options: gaxios.GaxiosOptions): Promise<gaxios.GaxiosResponse<T>>;
}

export interface GcpSecretResolverOptions {
  /** Default https://secretmanager.googleapis.com/ ; the local emulator's `url` in tests. */
  rootUrl?: string;
  /**
   * Default: `GoogleAuth` with the cloud-platform scope (Application Default Credentials, i.e. the function's
   * runtime service account), created on the first `gcp-sm:` reference. Against the emulator: an `OAuth2Client`
   * holding a fixed access token.
   */
  auth?: GoogleAuthRequester;
  /** Per attempt. Default 10000. */
  timeoutMs?: number;
  /** Retries after the first attempt, on 429, 5xx, no answer and a checksum mismatch. Default 3. */
  retries?: number;
  /** Backoff base in ms, doubled per retry with jitter. Default 500; tests use a few ms. */
  minTimeoutMs?: number;
  /** Backoff ceiling in ms. Default 5000. */
  maxTimeoutMs?: number;
}

interface GcpSecretRef {
  project: string;
  secret: string;
  /** `latest` or a version number. */
  version: string;
  /** `projects/<project>/secrets/<secret>/versions/<version>`: the resource the API reads. */
  name: string;
}

// Same grammar as SECRET_REF in shared/config.ts; the resolver keeps its own because it also sees references that
// never went through the schema (the config variable itself) and it needs the parts.
const GCP_REF =
  /^gcp-sm:projects\/([a-z][a-z0-9-]{4,28}[a-z0-9]|[1-9][0-9]{0,19})\/secrets\/([A-Za-z0-9_-]{1,255})(?:\/versions\/(latest|[1-9][0-9]{0,19}))?$/;

const GCP_REF_FORM =
  'gcp-sm:projects/<project id or number>/secrets/<secret id>, optionally followed by /versions/latest or /versions/<n>';

/** The parts of a `gcp-sm:` reference, or undefined when it is not one in the accepted form. */
export function parseGcpSecretRef(ref: string): GcpSecretRef | undefined {
  const match = GCP_REF.exec(ref);
  if (match === null) return undefined;
  const [, project = '', secret = '', version = 'latest'] = match;
  return { project, secret, version, name: `projects/${project}/secrets/${secret}/versions/${version}` };
}

/** A failed read, before it is tied to a config field (one cached read can serve several fields). */

interface GoogleErrorBody {
  status: string | undefined;
  message: string | undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `{"error":{"code","message","status"}}` (AIP-193); anything else (an HTML 404 from a proxy) yields nothing. */
function googleError(data: unknown): GoogleErrorBody {
  const error = isRecord(data) && isRecord(data.error) ? data.error : undefined;
  return {
    status: typeof error?.status === 'string' ? error.status : undefined,
    // Google's messages name resources and permissions, never payloads; capped so a proxy page cannot flood a log.
    message: typeof error?.message === 'string' ? error.message.slice(0, 300) : undefined,
  };
}

/** What a failure without an HTTP answer was: a socket error code, or the per-attempt timeout. */
function networkCode(error: unknown, timeoutMs: number): string {
  if (!isRecord(error)) return String(error);
  const cause = isRecord(error.cause) ? error.cause : undefined;
  const inner = isRecord(error.error) ? error.error : undefined;
  for (const candidate of [error.code, cause?.code, inner?.code]) {
    if (typeof candidate === 'string' && candidate !== '') return candidate;
  }
  // gaxios enforces `timeout` by aborting the fetch.
  const names = [error.name, cause?.name, inner?.name];
  if (names.includes('AbortError') || names.includes('TimeoutError')) return `no answer within ${timeoutMs} ms`;
  return 'no answer';
}

function classify(
  error: unknown,
  ref: GcpSecretRef,
  target: { url: string; rootUrl: string; timeoutMs: number },
): SecretReadError {
  const { url, rootUrl, timeoutMs } = target;
  const secretName = `projects/${ref.project}/secrets/${ref.secret}`;
  const response = isRecord(error) && isRecord(error.response) ? error.response : undefined;
  const requestUrl = isRecord(error) && isRecord(error.config) ? String(error.config.url ?? '') : '';
  // google-auth-library fetches the token first (metadata server, STS); its failures are about credentials.
  if (requestUrl !== '' && !requestUrl.startsWith(url)) {
    return new SecretReadError(
      `cannot get an access token for Secret Manager (${networkCode(error, timeoutMs)}): check the function's runtime service account (Application Default Credentials)`,
      response === undefined,
    );
  }
  if (response === undefined) {
    if (!isRecord(error) || !('config' in error)) {
      // Not an HTTP failure at all: ADC could not find credentials, or similar. Its message says which.
      const message = error instanceof Error ? error.message.slice(0, 300) : String(error);
      return new SecretReadError(`cannot authenticate to Secret Manager: ${message}`, false);
    }
    return new SecretReadError(
      `could not reach Secret Manager at ${new URL(rootUrl).origin} (${networkCode(error, timeoutMs)}); retry`,
      true,
    );
  }
  const status = typeof response.status === 'number' ? response.status : 0;
  const body = googleError(response.data);
  const answer = `${status}${body.status ? ` ${body.status}` : ''}`;
  if (status === 403) {
    return new SecretReadError(
      `Secret Manager denied access to ${ref.name} (${answer}): grant roles/secretmanager.secretAccessor on the secret ${secretName} to the function's runtime service account (Google answers the same when the secret does not exist, so check the name too)`,
      false,
    );
  }
  if (status === 404) {
    const what =
      ref.version === 'latest'
        ? `the secret ${secretName} does not exist or has no versions`
        : `version ${ref.version} of the secret ${secretName} does not exist`;
    return new SecretReadError(`${what} (${answer}): create it or fix the reference`, false);
  }
  if (status === 401) {
    return new SecretReadError(
      `Secret Manager refused the function's credentials (${answer}): check the runtime service account and its access token`,
      false,
    );
  }
  if (status === 400 && body.status === 'FAILED_PRECONDITION') {
    return new SecretReadError(
      `${ref.name} cannot be read (${answer}${body.message ? `: ${body.message}` : ''}): enable the version, or reference an enabled one`,
      false,
    );
  }
  if (status === 429) {
    return new SecretReadError(
      `Secret Manager throttled the read of ${ref.name} (${answer}, its per-project access quota); retry later`,
      true,
    );
  }
  if (status >= 500) {
    return new SecretReadError(
      `Secret Manager failed reading ${ref.name} (${answer}): this is on Secret Manager's side, not in the config; retry`,
      true,
    );
  }
  return new SecretReadError(
    `Secret Manager refused to read ${ref.name} (${answer}${body.message ? `: ${body.message}` : ''})`,
    false,
  );
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text, after checking its CRC32C; the checksum is an int64 sent as a decimal string. */
function decodePayload(data: unknown, ref: GcpSecretRef): string {
  const payload = isRecord(data) && isRecord(data.payload) ? data.payload : undefined;
  if (payload === undefined) {
    throw new SecretReadError(`Secret Manager answered ${ref.name} without a payload`, true);
  }
  // proto3 JSON leaves out empty bytes, so a missing `data` is an empty secret.
  const bytes = typeof payload.data === 'string' ? Buffer.from(payload.data, 'base64') : Buffer.alloc(0);
  const expected = payload.dataCrc32c;
  if (expected !== undefined && expected !== null) {
    const actual = crc32c(bytes);
    if (String(expected) !== String(actual)) {
      // Corrupted on the way (or by a proxy): a fresh read may well be intact, so this is retried.
      throw new SecretReadError(
        `the payload of ${ref.name} does not match its CRC32C checksum (data corruption); refused, retry`,
        true,
      );
    }
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new SecretReadError(`the payload of ${ref.name} is not UTF-8 text; store the secret as text`, false);
  }
}

export function createGcpSecretResolver(env: Env, options: GcpSecretResolverOptions = {}): SecretResolver {
  const rootUrl = (options.rootUrl ?? SECRET_MANAGER_ROOT_URL).replace(/\/*$/, '/');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retries ?? 3;
  const minTimeoutMs = options.minTimeoutMs ?? 500;
  const maxTimeoutMs = options.maxTimeoutMs ?? 5_000;
  let auth = options.auth;
  // Keyed by resource name; the promise itself is cached so concurrent resolves of one secret share one call.

  async function attempt(ref: GcpSecretRef): Promise<string> {
    const url = `${rootUrl}v1/${ref.name}:access`;
    auth ??= new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    let response: gaxios.GaxiosResponse<unknown>;
    try {
      // gaxios' own retries are off: p-retry below decides, so a 429 is not retried twice over.
      response = await auth.request<unknown>({ url, method: 'GET', timeout: timeoutMs, retry: false });
    } catch (error) {
      throw classify(error, ref, { url, rootUrl, timeoutMs });
    }
    const value = decodePayload(response.data, ref);
    if (value.trim() === '') throw new SecretReadError(`${ref.name} is empty`, false);
    return value.trim();
  }

  async function read(ref: GcpSecretRef): Promise<string> {
    let attempts = 0;
    try {
      return await withRetries(
        () => {
          attempts += 1;
          return attempt(ref);
        },
        {
          retries,
          minTimeoutMs,
          maxTimeoutMs,
          // A missing permission or secret does not appear by asking again; only transient failures are retried.
          retryable: (error) => !(error instanceof SecretReadError) || error.retryable,
        },
      );
    } catch (error) {
      if (error instanceof SecretReadError && error.retryable && attempts > 1) {
        throw new SecretReadError(`${error.message} (gave up after ${attempts} attempts)`, true);
      }
      throw error;
    }
  }

  return secretResolver(env, {
    cloud: 'GCP',
    scheme: 'gcp-sm:',
    form: GCP_REF_FORM,
    parse: parseGcpSecretRef,
    // The resource name includes the version.
    key: (parsed) => parsed.name,
    read,
  });
}
