import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseListQuery, runListQuery, type StoredDeployment } from './list-query.ts';

/**
 * A loopback stand-in for the Astro API v1 Deployment endpoints, close enough that the real client runs against it
 * unchanged: bearer auth (401), organization scoping (403), Astro-style error bodies, paging, sorting and filters,
 * plus injected latency, 429 with Retry-After and 5xx so retry and timeout handling are exercised for real.
 * Deployments are returned exactly as stored, unknown fields included, to prove the client ignores them.
 */

interface AstroEmulatorOptions {
  port?: number;
  token?: string;
  organizationId?: string;
}

export interface AstroEmulatorFaults {
  /** Added before every answer. */
  latencyMs?: number;
  /** The next N requests answer `status` (default 503). */
  failNext?: number;
  status?: 429 | 500 | 503;
  /** Sent as Retry-After on injected failures. */
  retryAfterSeconds?: number;
  /** Every request answers 503 until cleared. */
  down?: boolean;
}

export interface AstroEmulatorRequest {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly status: number;
  /** When the request arrived; `at` is when it was answered. Together they show which requests overlapped. */
  readonly receivedAt: number;
  readonly at: number;
}

export interface AstroEmulator {
  /** Base URL to give the client: http://127.0.0.1:<port>/v1 */
  readonly url: string;
  /** Adds or replaces a Deployment by `id`; sets `updatedAt` (and `createdAt`) to now when absent. */
  upsert(deployment: Record<string, unknown>): void;
  remove(deploymentId: string): void;
  list(): Record<string, unknown>[];
  /** Every request, in the order answered: lets a test count retries and pages. */
  readonly requests: ReadonlyArray<AstroEmulatorRequest>;
  /** Replaces the faults as a whole; `setFaults({})` clears them. */
  setFaults(faults: AstroEmulatorFaults): void;
  /**
   * Runs after each answer is computed and before it is sent: a test changes the organization between two pages of
   * a list, as people do while a sweep runs. `undefined` removes it.
   */
  afterRequest(hook: ((request: AstroEmulatorRequest) => void) | undefined): void;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

const DEFAULT_TOKEN = 'astro-local-token';
const DEFAULT_ORGANIZATION_ID = 'clorg0000000000000000000';
const ROUTE = /^\/v1\/organizations\/([^/]+)\/deployments(?:\/([^/]+))?\/?$/;
const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function problem(status: number, message: string, headers?: Record<string, string>): Reply {
  // Astro's error shape; the requestId is what support asks for, so the client shows it.
  const body = { message, statusCode: status, requestId: randomBytes(12).toString('hex') };
  return headers === undefined ? { status, body } : { status, body, headers };
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

export async function startAstroEmulator(options: AstroEmulatorOptions = {}): Promise<AstroEmulator> {
  const token = options.token ?? DEFAULT_TOKEN;
  const organizationId = options.organizationId ?? DEFAULT_ORGANIZATION_ID;
  const deployments = new Map<string, StoredDeployment>();
  const requests: AstroEmulatorRequest[] = [];
  let hook: ((request: AstroEmulatorRequest) => void) | undefined;
  const timers = new Set<NodeJS.Timeout>();
  let faults: AstroEmulatorFaults = {};
  let failuresLeft = 0;

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  function injectedFailure(): Reply | undefined {
    if (faults.down) return problem(503, 'Service Unavailable');
    if (failuresLeft <= 0) return undefined;
    failuresLeft -= 1;
    const status = faults.status ?? 503;
    const headers =
      faults.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(faults.retryAfterSeconds) };
    return problem(status, status === 429 ? 'Too many requests, slow down' : (REASONS[status] ?? 'Error'), headers);
  }

  function route(request: IncomingMessage, url: URL): Reply {
    const failure = injectedFailure();
    if (failure !== undefined) return failure;
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
    // The token is never echoed: a test asserts the client's messages cannot leak it, so the server must not either.
    if (presented === undefined || presented === '') return problem(401, 'missing bearer token');
    if (presented !== token) return problem(401, 'invalid or expired API token');
    const match = ROUTE.exec(url.pathname);
    if (match === null) return problem(404, `no route for ${url.pathname}`);
    if (request.method !== 'GET') return problem(405, `method ${request.method ?? ''} is not allowed`);
    const org = decodeSegment(match[1] ?? '');
    if (org !== organizationId) return problem(403, 'the API token has no access to this organization');
    const deploymentId = match[2] === undefined ? undefined : decodeSegment(match[2]);
    if (match[2] !== undefined) {
      const deployment = deploymentId === undefined ? undefined : deployments.get(deploymentId);
      if (deployment === undefined) return problem(404, `deployment ${deploymentId ?? ''} not found`);
      return { status: 200, body: deployment };
    }
    const query = parseListQuery(url.searchParams);
    if (typeof query === 'string') return problem(400, query);
    const { page, totalCount } = runListQuery([...deployments.values()], query);
    return { status: 200, body: { deployments: page, limit: query.limit, offset: query.offset, totalCount } };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    // Drain the body (GETs have none) so keep-alive connections stay usable after any answer.
    request.resume();
    const latency = Math.max(0, faults.latencyMs ?? 0);
    if (latency > 0) await delay(latency);
    let reply: Reply;
    try {
      reply = route(request, url);
    } catch (error) {
      reply = problem(500, `emulator error: ${String(error)}`);
    }
    const record = {
      method: request.method ?? '',
      path: url.pathname,
      query: url.search.replace(/^\?/, ''),
      status: reply.status,
      receivedAt,
      at: Date.now(),
    };
    requests.push(record);
    hook?.(record);
    // The client may have given up (timeout) and closed the socket; writing then is harmless but pointless.
    if (response.destroyed) return;
    response.writeHead(reply.status, { 'Content-Type': 'application/json; charset=utf-8', ...reply.headers });
    response.end(JSON.stringify(reply.body));
  }

  const server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    upsert(deployment) {
      const id = deployment.id;
      if (typeof id !== 'string' || id === '') throw new Error('upsert needs a Deployment with a string id');
      const now = new Date().toISOString();
      const previous = deployments.get(id);
      // Re-inserting moves it to the end, as a fresh write would appear last in insertion order.
      deployments.delete(id);
      deployments.set(id, {
        organizationId,
        ...deployment,
        createdAt: deployment.createdAt ?? previous?.createdAt ?? now,
        updatedAt: deployment.updatedAt ?? now,
      });
    },
    remove(deploymentId) {
      deployments.delete(deploymentId);
    },
    list() {
      return [...deployments.values()].map((deployment) => ({ ...deployment }));
    },
    get requests() {
      return requests;
    },
    afterRequest(next) {
      hook = next;
    },
    setFaults(next) {
      faults = { ...next };
      failuresLeft = Math.max(0, next.failNext ?? 0);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // Clients keep connections alive; without closing them server.close() would wait for their idle timeout.
      server.closeAllConnections();
      return closed;
    },
  };
}
