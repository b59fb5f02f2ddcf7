import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { internalError, notFound } from './errors.ts';
import { GcpFaultInjector, type GcpFaults, type GcpService } from './faults.ts';
import { PolicyStore } from './policy-store.ts';
import { isBlind, readBody } from './request.ts';
import { createProjectStore, parseProjectRoute, respondProjectPolicy } from './resource-manager.ts';
import {
  type PutSecretOptions,
  parseSecretRoute,
  respondSecretAccess,
  SecretManagerStore,
  type SecretVersionState,
} from './secret-manager.ts';
import {
  errorReply,
  type PolicyReply,
  parseServiceAccountRoute,
  respondServiceAccountPolicy,
} from './service-account-routes.ts';

export type { GcpFaults, GcpService } from './faults.ts';
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
  /** The time the write quota (`writeQuotaPerMinute`) is counted in; default the wall clock. */
  clock?: { now(): number };
}

export interface GcpCall {
  /**
   * `getIamPolicy`, `setIamPolicy`, another `:verb` of the URL, `concurrentWrite` for an injected racing writer, or
   * `access` for a Secret Manager read.
   */
  method: 'getIamPolicy' | 'setIamPolicy' | 'access' | string;
  /** Which API answered: IAM (service accounts), Resource Manager (projects) or Secret Manager. */
  service: GcpService;
  /** The service account of an IAM call; '' otherwise. */
  email: string;
  /** The project of a Resource Manager call (`acme-data`); '' otherwise. */
  project: string;
  /** What a Secret Manager call asked for (`projects/p/secrets/s/versions/latest`), or a project (`projects/p`). */
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
  /**
   * Resource Manager seeding: creates (or replaces) a project whose IAM policy the caller may read and write. Default
   * policy: one owner, `{ version: 1, etag, bindings: [{ role: 'roles/owner', members: ['user:owner@example.com'] }] }`.
   * A project not put here answers 403, as a project the caller cannot see does.
   */
  putProject(project: string, policy?: unknown): void;
  /** The stored project policy (a copy, with its etag, auditConfigs and conditions); throws for an unknown project. */
  getProjectPolicy(project: string): unknown;
  /**
   * Takes `resourcemanager.projects.<method>` on this project away from the caller (403 for those methods, default
   * both), as when the function's service account was not granted it; `[]` gives it back.
   */
  denyProjectAccess(project: string, methods?: Array<'getIamPolicy' | 'setIamPolicy'>): void;
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
  /** Calls of this method, of one API when `service` is given. */
  count(method: string, service?: GcpService): number;
  resetCalls(): void;
  /** Replaces the faults; `setFaults({})` clears them. */
  setFaults(faults: GcpFaults): void;
}

const QUOTA_CONSUMER = 'project_number:123456789012';
const DEFAULT_PROJECT_POLICY = { bindings: [{ role: 'roles/owner', members: ['user:owner@example.com'] }] };
interface Reply extends PolicyReply {
  /** Logged after the request's own entry (the injected concurrent writer). */
  followUp?: GcpCall;
  /** Leave the request unanswered (the `hang` fault). */
  hang?: boolean;
}

const HUNG: Reply = { status: 0, body: {}, hang: true };

/** Parsed up front so the call log shows what the client sent even when a fault answers first; false: not JSON. */
function parseInto(call: GcpCall, raw: string): boolean {
  if (raw.trim() === '') return true;
  try {
    call.body = JSON.parse(raw);
    return true;
  } catch {
    call.body = raw;
    return false;
  }
}

export async function startGcpEmulator(options: GcpEmulatorOptions = {}): Promise<GcpEmulator> {
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? 'ya29.local-test-token';
  const pools = options.pools ?? ['astro-gke-prod.svc.id.goog'];
  const store = new PolicyStore(pools);
  // One pool set: a project binding may name a GKE member too, and a pool added later counts for both.
  const projects = createProjectStore(pools);
  const faults = new GcpFaultInjector(options.seed ?? 1, options.clock);
  const projectNumber = options.projectNumber ?? '123456789012';
  const secrets = new SecretManagerStore(projectNumber);
  const calls: GcpCall[] = [];
  let concurrentWrites = 0;

  /** The injected concurrent writer's entry, logged right after the read it raced. */
  function withFollowUp(call: GcpCall, answer: PolicyReply): Reply {
    if (answer.raced === undefined) return answer;
    const followUp = { ...call, method: 'concurrentWrite', status: 200, body: answer.raced, query: {} };
    return { ...answer, followUp: { ...followUp, blindWrite: false, at: Date.now() } };
  }

  /** Routing first, as at Google's front end; each API then answers authentication, quota and the call itself. */
  function respond(req: IncomingMessage, raw: string, call: GcpCall): Reply {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const secretRoute = parseSecretRoute(url.pathname);
    if (secretRoute !== undefined) {
      call.method = 'access';
      call.service = 'secretmanager';
      call.resource = `projects/${secretRoute.project}/secrets/${secretRoute.secret}/versions/${secretRoute.version}`;
      if (faults.hangs(call.method)) return HUNG;
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
    const common = { authorization: req.headers.authorization, token, faults, consumer: QUOTA_CONSUMER };
    const raceCount = () => ++concurrentWrites;
    const project = req.method === 'POST' ? parseProjectRoute(url.pathname) : undefined;
    if (project !== undefined) {
      call.service = 'cloudresourcemanager';
      call.method = project.method;
      call.project = project.project;
      call.resource = `projects/${project.project}`;
      const parsed = parseInto(call, raw);
      call.blindWrite = project.method === 'setIamPolicy' && parsed && isBlind(call.body);
      if (faults.hangs(call.method)) return HUNG;
      const input = { ...common, route: project, body: call.body, parsed, store: projects, raceCount };
      return withFollowUp(call, respondProjectPolicy(input));
    }
    const route = req.method === 'POST' ? parseServiceAccountRoute(url.pathname) : undefined;
    if (route === undefined) return errorReply(notFound(url.pathname));
    call.method = route.method;
    call.email = route.email;
    const parsed = parseInto(call, raw);
    call.blindWrite = route.method === 'setIamPolicy' && parsed && isBlind(call.body);
    if (faults.hangs(call.method)) return HUNG;
    const input = { ...common, route, query: url.searchParams, body: call.body, parsed, store, raceCount };
    return withFollowUp(call, respondServiceAccountPolicy(input));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const raw = await readBody(req);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const call: GcpCall = {
      method: '',
      service: 'iam',
      email: '',
      project: '',
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
    if (reply.hang === true) return;
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
      projects.pools.add(pool);
    },
    putProject: (project, policy) => projects.put(project, policy ?? DEFAULT_PROJECT_POLICY),
    getProjectPolicy: (project) => projects.require(project),
    denyProjectAccess: (project, methods = ['getIamPolicy', 'setIamPolicy']) => projects.deny(project, methods),
    putSecret: (name, value, putOptions) => secrets.put(name, value, putOptions),
    setSecretVersionState: (name, version, state) => secrets.setState(name, version, state),
    denySecretAccess: (name, denied = true) => secrets.deny(name, denied),
    corruptSecret: (name, times = Number.POSITIVE_INFINITY) => secrets.corrupt(name, times),
    deleteSecret: (name) => secrets.delete(name),
    calls,
    count: (method, service) =>
      calls.filter((c) => c.method === method && (service === undefined || c.service === service)).length,
    resetCalls: () => {
      calls.length = 0;
    },
    setFaults: (next) => faults.set(next),
  };
}
