import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  credentialsMissing,
  GoogleApiError,
  internalError,
  invalidCredentials,
  invalidJson,
  notFound,
  quotaExceeded,
  unavailable,
} from './errors.ts';
import { GcpFaultInjector, type GcpFaults } from './faults.ts';
import { parseSetRequest } from './policy-shape.ts';
import { PolicyStore } from './policy-store.ts';
import { decode, isBlind, readBody, requestedVersion } from './request.ts';
import {
  type PutSecretOptions,
  parseSecretRoute,
  respondSecretAccess,
  SecretManagerStore,
  type SecretVersionState,
} from './secret-manager.ts';

export type { GcpFaults } from './faults.ts';
export type { PutSecretOptions, SecretVersionState } from './secret-manager.ts';

interface GcpEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** The one bearer token accepted (default 'ya29.local-test-token'). */
  token?: string;
  /** Existing workload identity pools (default ['astro-gke-prod.svc.id.goog']). */
  pools?: string[];
  /** Seed of the fault-injection RNG (default 1). */
  seed?: number;
  /** The project number Secret Manager puts in the resource names it answers (default '123456789012'). */
  projectNumber?: string;
}

export interface GcpCall {
  /**
   * `getIamPolicy`, `setIamPolicy`, another `:verb` of the URL, `concurrentWrite` for an injected racing writer, or
   * `access` for a Secret Manager read.
   */
  method: 'getIamPolicy' | 'setIamPolicy' | 'access' | string;
  /** The service account of an IAM call; '' for Secret Manager. */
  email: string;
  /** The secret version a Secret Manager call asked for (`projects/p/secrets/s/versions/latest`). */
  resource?: string;
  status: number;
  /** The parsed JSON request body (`{}` when empty; the raw text when it was not JSON). */
  body: unknown;
  /** Query parameters, e.g. `{ 'options.requestedPolicyVersion': '3' }`. */
  query: Readonly<Record<string, string>>;
  /** setIamPolicy without an etag (accepted by IAM as an unconditional overwrite). */
  blindWrite: boolean;
  at: number;
}

export interface GcpEmulator {
  /**
   * `http://127.0.0.1:<port>/`: pass as `rootUrl` to `iam({ version: 'v1', rootUrl, auth })` and to
   * `createGcpSecretResolver(env, { rootUrl, auth })` (Secret Manager is served on the same port).
   */
  readonly url: string;
  close(): Promise<void>;
  /** Creates (or replaces) a service account; default policy `{ version: 1, etag: <fresh> }` without bindings. */
  putServiceAccount(email: string, policy?: unknown): void;
  /** The stored policy (a copy, with its etag); throws for an unknown account. */
  getPolicy(email: string): unknown;
  addPool(pool: string): void;
  /**
   * Secret Manager seeding: adds a version to `projects/<p>/secrets/<s>` (creating the secret) and returns its number.
   * Versions count from 1 like Secret Manager's; `latest` is the highest.
   */
  putSecret(name: string, value: string, options?: PutSecretOptions): number;
  /** Enables, disables or destroys one version (the latter two answer 400 FAILED_PRECONDITION). */
  setSecretVersionState(name: string, version: number, state: SecretVersionState): void;
  /** Takes `secretmanager.versions.access` on this secret away from the caller (403), or gives it back. */
  denySecretAccess(name: string, denied?: boolean): void;
  /**
   * Sends the next `times` payloads of this secret (default: all of them) with a byte that does not match their
   * `dataCrc32c`, as after corruption in transit; `0` stops it.
   */
  corruptSecret(name: string, times?: number): void;
  deleteSecret(name: string): void;
  readonly calls: ReadonlyArray<GcpCall>;
  count(method: string): number;
  resetCalls(): void;
  /** Replaces the faults; `setFaults({})` clears them. */
  setFaults(faults: GcpFaults): void;
}

const QUOTA_CONSUMER = 'project_number:123456789012';
// The generated client expands `/v1/{+resource}:verb` without escaping, so `@` and `+` arrive as they are; other
// clients may percent-encode the email, hence the decode below.
const ROUTE = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+):([A-Za-z]+)$/;

interface Reply {
  status: number;
  body: unknown;
  headers?: Readonly<Record<string, string>>;
  /** Logged after the request's own entry (the injected concurrent writer). */
  followUp?: GcpCall;
}

function errorReply(error: GoogleApiError): Reply {
  return { status: error.code, body: error.toJSON(), headers: error.headers };
}

export async function startGcpEmulator(options: GcpEmulatorOptions = {}): Promise<GcpEmulator> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? 'ya29.local-test-token';
  const store = new PolicyStore(options.pools ?? ['astro-gke-prod.svc.id.goog']);
  const faults = new GcpFaultInjector(options.seed ?? 1);
  const projectNumber = options.projectNumber ?? '123456789012';
  const secrets = new SecretManagerStore(projectNumber);
  const calls: GcpCall[] = [];
  let concurrentWrites = 0;

  function operate(method: string, email: string, resource: string, query: URLSearchParams, body: unknown): Reply {
    if (method === 'getIamPolicy') {
      const policy = store.get(email, resource, requestedVersion(query, body));
      if (!faults.concurrentWrite()) return { status: 200, body: policy };
      // The racing writer lands after this read was answered, so the etag the caller holds is already stale.
      concurrentWrites += 1;
      const change = store.concurrentWrite(email, concurrentWrites);
      const at = Date.now();
      const followUp = {
        method: 'concurrentWrite',
        email,
        status: 200,
        body: change,
        query: {},
        blindWrite: false,
        at,
      };
      return { status: 200, body: policy, followUp };
    }
    if (method === 'setIamPolicy')
      return { status: 200, body: store.set(email, resource, parseSetRequest(body)).policy };
    return errorReply(new GoogleApiError(501, 'UNIMPLEMENTED', `gcp-emulator does not implement ${method}.`));
  }

  /** Order as at Google's front end: routing, authentication, quota, JSON transcoding, then IAM itself. */
  function respond(req: IncomingMessage, raw: string, call: GcpCall): Reply {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const secretRoute = parseSecretRoute(url.pathname);
    if (secretRoute !== undefined) {
      call.method = 'access';
      call.resource = `projects/${secretRoute.project}/secrets/${secretRoute.secret}/versions/${secretRoute.version}`;
      return respondSecretAccess({
        method: req.method,
        authorization: req.headers.authorization,
        token,
        route: secretRoute,
        store: secrets,
        faults,
        consumer: `project_number:${projectNumber}`,
        pathname: url.pathname,
      });
    }
    const route = ROUTE.exec(url.pathname);
    const project = decode(route?.[1] ?? '');
    const email = decode(route?.[2] ?? '');
    const method = route?.[3] ?? '';
    if (route === null || project === undefined || email === undefined || req.method !== 'POST') {
      return errorReply(notFound(url.pathname));
    }
    call.method = method;
    call.email = email;
    // Parsed up front so the call log shows what the client sent even when a fault answers first.
    let parsed = true;
    if (raw.trim() !== '') {
      try {
        call.body = JSON.parse(raw);
      } catch {
        call.body = raw;
        parsed = false;
      }
    }
    call.blindWrite = method === 'setIamPolicy' && parsed && isBlind(call.body);
    const authorization = req.headers.authorization;
    if (authorization === undefined) return errorReply(credentialsMissing(method));
    if (authorization !== `Bearer ${token}`) return errorReply(invalidCredentials());
    const fault = faults.pick(method);
    if (fault === 'rate-limit') return errorReply(quotaExceeded(method, QUOTA_CONSUMER));
    if (fault === 'server-error') return errorReply(unavailable());
    if (fault === 'internal-error') return errorReply(internalError());
    if (!parsed) return errorReply(invalidJson('Unexpected token.'));
    const body = call.body;
    try {
      return operate(method, email, `projects/${project}/serviceAccounts/${email}`, url.searchParams, body);
    } catch (error) {
      if (error instanceof GoogleApiError) return errorReply(error);
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const raw = await readBody(req);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const call: GcpCall = {
      method: '',
      email: '',
      status: 0,
      body: {},
      query: Object.fromEntries(url.searchParams),
      blindWrite: false,
      at,
    };
    const reply = respond(req, raw, call);
    call.status = reply.status;
    calls.push(call);
    if (reply.followUp) calls.push(reply.followUp);
    const text = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...reply.headers,
      'content-type': 'application/json; charset=UTF-8',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('gcp-emulator: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(internalError().toJSON()));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // gaxios keeps connections alive; drop them so close() does not wait for their idle timeout.
        server.closeAllConnections();
      }),
    putServiceAccount: (email, policy) => store.put(email, policy),
    getPolicy: (email) => store.require(email),
    addPool: (pool) => {
      store.pools.add(pool);
    },
    putSecret: (name, value, putOptions) => secrets.put(name, value, putOptions),
    setSecretVersionState: (name, version, state) => secrets.setState(name, version, state),
    denySecretAccess: (name, denied = true) => secrets.deny(name, denied),
    corruptSecret: (name, times = Number.POSITIVE_INFINITY) => secrets.corrupt(name, times),
    deleteSecret: (name) => secrets.delete(name),
    calls,
    count: (method) => calls.filter((c) => c.method === method).length,
    resetCalls: () => {
      calls.length = 0;
    },
    setFaults: (next) => faults.set(next),
  };
}
