import { crc32c } from '../../functions/gcp/crc32c.ts';
import { credentialsMissing, GoogleApiError, internalError, invalidCredentials, unavailable } from './errors.ts';
import type { GcpFaultInjector } from './faults.ts';
import { decode } from './request.ts';

/**
 * Secret Manager v1 `AccessSecretVersion` as REST serves it:
 * `GET /v1/projects/<p>/secrets/<s>/versions/<v>:access` → `{"name", "payload": {"data": <base64>, "dataCrc32c":
 * "<decimal int64>"}}`, where `name` carries the project *number* and the resolved version number even when the
 * caller asked for `latest`. Errors use the same AIP-193 JSON as the IAM routes.
 */

const SERVICE = 'secretmanager.googleapis.com';
const RPC = 'google.cloud.secretmanager.v1.SecretManagerService.AccessSecretVersion';
const PERMISSION = 'secretmanager.versions.access';
const ROUTE = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+):access$/;
const NAME = /^projects\/([^/]+)\/secrets\/([^/]+)$/;

export type SecretVersionState = 'ENABLED' | 'DISABLED' | 'DESTROYED';

export interface PutSecretOptions {
  /** The version number to write (default: one above the highest so far, starting at 1, as Secret Manager counts). */
  version?: number;
  /** Default ENABLED. A DISABLED or DESTROYED version answers 400 FAILED_PRECONDITION. */
  state?: SecretVersionState;
}

interface StoredVersion {
  data: Buffer;
  state: SecretVersionState;
}

interface StoredSecret {
  versions: Map<number, StoredVersion>;
  /** The caller lacks secretmanager.versions.access on this secret. */
  denied: boolean;
  /** How many of the next answers go out with bytes that no longer match their checksum (corruption in transit). */
  corrupt: number;
}

interface SecretManagerReply {
  status: number;
  body: unknown;
  headers?: Readonly<Record<string, string>>;
}

interface SecretManagerRoute {
  project: string;
  secret: string;
  version: string;
}

function reply(error: GoogleApiError): SecretManagerReply {
  return { status: error.code, body: error.toJSON(), headers: error.headers };
}

/** The route of an `:access` request, or undefined for any other path. */
export function parseSecretRoute(pathname: string): SecretManagerRoute | undefined {
  const match = ROUTE.exec(pathname);
  if (match === null) return undefined;
  const project = decode(match[1] ?? '');
  const secret = decode(match[2] ?? '');
  const version = decode(match[3] ?? '');
  if (project === undefined || secret === undefined || version === undefined) return undefined;
  return { project, secret, version };
}

function quotaExceeded(consumer: string): GoogleApiError {
  return new GoogleApiError(
    429,
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute per project' of service '${SERVICE}' for consumer '${consumer}'.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          service: SERVICE,
          consumer,
          quota_metric: `${SERVICE}/access_requests`,
          quota_limit: 'AccessRequestsPerMinutePerProject',
        },
      },
    ],
  );
}

function permissionDenied(resource: string): GoogleApiError {
  return new GoogleApiError(
    403,
    'PERMISSION_DENIED',
    `Permission '${PERMISSION}' denied for resource '${resource}' (or it may not exist).`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'IAM_PERMISSION_DENIED',
        domain: 'iam.googleapis.com',
        metadata: { permission: PERMISSION, resource },
      },
    ],
  );
}

/** Secrets by `projects/<p>/secrets/<s>`, each with numbered versions. */
export class SecretManagerStore {
  readonly #secrets = new Map<string, StoredSecret>();

  constructor(
    /** Secret Manager answers resource names with the project number, whatever the caller used. */
    private readonly projectNumber: string,
  ) {}

  #secret(name: string, create: boolean): StoredSecret {
    const match = NAME.exec(name);
    if (match === null) throw new Error(`gcp-emulator: a secret name is projects/<project>/secrets/<id>, got ${name}`);
    let secret = this.#secrets.get(name);
    if (secret === undefined) {
      if (!create) throw new Error(`gcp-emulator: no secret ${name}`);
      secret = { versions: new Map(), denied: false, corrupt: 0 };
      this.#secrets.set(name, secret);
    }
    return secret;
  }

  /** Adds (or replaces) a version and returns its number. */
  put(name: string, value: string, options: PutSecretOptions = {}): number {
    const secret = this.#secret(name, true);
    const version = options.version ?? Math.max(0, ...secret.versions.keys()) + 1;
    if (!Number.isInteger(version) || version < 1) throw new Error(`gcp-emulator: bad version ${version}`);
    secret.versions.set(version, { data: Buffer.from(value, 'utf8'), state: options.state ?? 'ENABLED' });
    return version;
  }

  setState(name: string, version: number, state: SecretVersionState): void {
    const stored = this.#secret(name, false).versions.get(version);
    if (stored === undefined) throw new Error(`gcp-emulator: no version ${version} of ${name}`);
    stored.state = state;
  }

  /** Takes secretmanager.versions.access on this secret away from the caller (or gives it back). */
  deny(name: string, denied: boolean): void {
    this.#secret(name, true).denied = denied;
  }

  corrupt(name: string, times: number): void {
    this.#secret(name, true).corrupt = Math.max(0, times);
  }

  delete(name: string): void {
    this.#secrets.delete(name);
  }

  access(route: SecretManagerRoute): SecretManagerReply {
    const requested = `projects/${route.project}/secrets/${route.secret}/versions/${route.version}`;
    const secret = this.#secrets.get(`projects/${route.project}/secrets/${route.secret}`);
    const canonical = `projects/${this.projectNumber}/secrets/${route.secret}`;
    // IAM runs before the lookup, and Google cannot tell a caller without access whether the secret exists.
    if (secret?.denied) return reply(permissionDenied(requested));
    const numbers = [...(secret?.versions.keys() ?? [])];
    if (secret === undefined || numbers.length === 0) {
      return reply(new GoogleApiError(404, 'NOT_FOUND', `Secret [${canonical}] not found or has no versions.`));
    }
    // `latest` is the most recently created version whatever its state, so a disabled latest is an error too.
    const number = route.version === 'latest' ? Math.max(...numbers) : Number(route.version);
    const stored = /^[1-9][0-9]*$|^latest$/.test(route.version) ? secret.versions.get(number) : undefined;
    const versionName = `${canonical}/versions/${route.version === 'latest' ? number : route.version}`;
    if (stored === undefined) {
      return reply(new GoogleApiError(404, 'NOT_FOUND', `Secret Version [${versionName}] not found.`));
    }
    if (stored.state !== 'ENABLED') {
      return reply(
        new GoogleApiError(400, 'FAILED_PRECONDITION', `Secret Version [${versionName}] is in ${stored.state} state.`),
      );
    }
    const checksum = crc32c(stored.data);
    const sent = secret.corrupt > 0 ? Buffer.concat([stored.data, Buffer.from([0x00])]) : stored.data;
    if (secret.corrupt > 0) secret.corrupt -= 1;
    return {
      status: 200,
      body: { name: versionName, payload: { data: sent.toString('base64'), dataCrc32c: String(checksum) } },
    };
  }
}

/**
 * One `:access` request, in the order of Google's front end: authentication, injected faults (quota, 5xx), then
 * Secret Manager itself. Only GET is routed; other verbs answer 404 as for any unknown URL.
 */
export function respondSecretAccess(input: {
  method: string | undefined;
  authorization: string | undefined;
  token: string;
  route: SecretManagerRoute;
  store: SecretManagerStore;
  faults: GcpFaultInjector;
  consumer: string;
  pathname: string;
}): SecretManagerReply {
  if (input.method !== 'GET') {
    return reply(
      new GoogleApiError(404, 'NOT_FOUND', `The requested URL ${input.pathname} was not found on this server.`),
    );
  }
  if (input.authorization === undefined) return reply(credentialsMissing('access', SERVICE, RPC));
  if (input.authorization !== `Bearer ${input.token}`) return reply(invalidCredentials());
  const fault = input.faults.pick('access', 'secretmanager');
  if (fault === 'rate-limit') return reply(quotaExceeded(input.consumer));
  if (fault === 'server-error') return reply(unavailable());
  if (fault === 'internal-error') return reply(internalError());
  return input.store.access(input.route);
}
