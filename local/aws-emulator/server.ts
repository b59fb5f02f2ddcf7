import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorizationProblem } from './auth.ts';
import { type EventsContext, handleEventsAction, type JsonReply, jsonError } from './eventbridge-actions.ts';
import { FaultInjector, type Faults } from './faults.ts';
import { handleQueryAction, QueryError, type QueryReply, type QueryService, queryErrorReply } from './iam-actions.ts';
import { handleSecretAction, SecretStore } from './secret-actions.ts';
import { DEFAULT_TRUST_POLICY_QUOTA, documentToText, type EventEntry, IamState } from './state.ts';

export type { Faults } from './faults.ts';
export type { EventEntry } from './state.ts';

interface AwsEmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Role trust policy size quota (ACLSizePerRole); default 2048 like a fresh AWS account. */
  trustPolicyQuota?: number;
  /** Seed of the fault-injection RNG (default 1). */
  seed?: number;
  /** Issuers whose IAM OIDC providers exist from the start (default none, as in a fresh account). */
  oidcProviders?: readonly string[];
}

type AwsService = 'iam' | 'events' | 'sts' | 'ssm' | 'secretsmanager';

export interface AwsCall {
  service: AwsService;
  action: string;
  status: number;
  params: Record<string, unknown>;
  at: number;
}

export type EventsListener = (entries: ReadonlyArray<EventEntry>) => void | Promise<void>;

export interface AwsEmulator {
  readonly url: string;
  close(): Promise<void>;
  putRole(roleName: string, trustPolicy: unknown, opts?: { path?: string; accountId?: string }): string;
  getTrustPolicy(roleName: string): unknown;
  getTrustPolicyText(roleName: string): string;
  setTrustPolicyQuota(n: number): void;
  /** Adds an IAM OIDC identity provider (client id sts.amazonaws.com); answers its ARN. */
  addOidcProvider(issuerUrl: string): string;
  /** Provider ARNs of the account, in creation order. */
  oidcProviders(): string[];
  /** Deletes a provider, as `aws iam delete-open-id-connect-provider` does; trust policies naming it are not changed. */
  deleteOidcProvider(arn: string): void;
  /** Registers a role of another account (Astro's) as existing, so a policy may trust it as `Principal.AWS`. */
  addExternalPrincipal(arn: string): void;
  /** Deletes a role of the account, or an external one: policies trusting it show its unique id; answers the id. */
  deleteRole(roleNameOrArn: string): string;
  /** IAM actions answered with AccessDenied from now on (replaces the list; `[]` clears it). */
  denyActions(actions: readonly string[]): void;
  readonly calls: ReadonlyArray<AwsCall>;
  count(action: string): number;
  resetCalls(): void;
  readonly events: ReadonlyArray<EventEntry>;
  /** Listeners run one delivery at a time, in order, after PutEvents accepted the entries (like rule -> target). */
  onEvents(listener: EventsListener): void;
  /** Resolves once every event delivery scheduled so far has finished. */
  idle(): Promise<void>;
  setFaults(faults: Faults): void;
  /** SSM parameter (SecureString by default) for `aws-ssm:` references. */
  putParameter(name: string, value: string, type?: 'String' | 'SecureString'): void;
  /** Secrets Manager secret (SecretString) for `aws-sm:` references. */
  putSecret(name: string, value: string): void;
}

const MAX_BODY_BYTES = 1024 * 1024;

interface Reply {
  service: AwsService;
  action: string;
  params: Record<string, unknown>;
  status: number;
  contentType: string;
  body: string;
  /** Leave the request unanswered (the `hang` fault). */
  hang?: boolean;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** IAM and STS share the query protocol; the SigV4 credential scope names the service the client signed for. */
function queryServiceOf(authorization: string | undefined, action: string): QueryService {
  const scope = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(authorization ?? '')?.[1];
  if (scope === 'sts' || scope === 'iam') return scope;
  return action === 'GetCallerIdentity' ? 'sts' : 'iam';
}

export async function startAwsEmulator(options: AwsEmulatorOptions = {}): Promise<AwsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const state = new IamState(options.trustPolicyQuota ?? DEFAULT_TRUST_POLICY_QUOTA);
  for (const issuer of options.oidcProviders ?? []) state.principals.addProvider(issuer);
  const faults = new FaultInjector(options.seed ?? 1);
  const calls: AwsCall[] = [];
  const secrets = new SecretStore();
  const events: EventEntry[] = [];
  const listeners: EventsListener[] = [];
  let deliveries: Promise<void> = Promise.resolve();

  const eventsContext: EventsContext = {
    faults,
    accept(entries) {
      events.push(...entries);
      for (const listener of listeners) {
        deliveries = deliveries
          .then(() => listener(entries))
          .catch((error: unknown) => console.error('aws-emulator: event listener failed', error));
      }
    },
  };

  function queryReply(service: QueryService, action: string, params: Record<string, string>, reply: QueryReply): Reply {
    return { service, action, params, status: reply.status, contentType: 'text/xml', body: reply.xml };
  }

  function jsonReply(action: string, params: Record<string, unknown>, reply: JsonReply, service: AwsService): Reply {
    const body = JSON.stringify(reply.json);
    return { service, action, params, status: reply.status, contentType: 'application/x-amz-json-1.1', body };
  }

  function handleJson(req: IncomingMessage, target: string, raw: string): Reply {
    const service: AwsService = target.startsWith('AmazonSSM.')
      ? 'ssm'
      : target.startsWith('secretsmanager.')
        ? 'secretsmanager'
        : 'events';
    const action = target.slice(target.indexOf('.') + 1);
    let body: unknown;
    let parsed = true;
    try {
      body = raw === '' ? {} : JSON.parse(raw);
    } catch {
      parsed = false;
    }
    const params = typeof body === 'object' && body !== null ? { ...body } : {};
    const reply = (r: JsonReply) => jsonReply(action, params, r, service);
    // Like AWS: authentication first, then the payload, then throttling, then the operation itself.
    const authProblem = authorizationProblem(header(req, 'authorization'), req.url);
    if (authProblem) return reply(jsonError(authProblem.status, authProblem.jsonType, authProblem.message));
    if (!parsed) return reply(jsonError(400, 'SerializationException', 'Request body is not valid JSON'));
    if (service !== 'events') return reply(handleSecretAction(target, body, secrets));
    if (!target.startsWith('AWSEvents.')) {
      return reply(jsonError(400, 'UnknownOperationException', `Unknown target ${target}`));
    }
    if (faults.hangs(action)) return { ...reply({ status: 0, json: {} }), hang: true };
    const fault = faults.pick(action);
    if (fault === 'throttle') return reply(jsonError(400, 'ThrottlingException', 'Rate exceeded'));
    if (fault === 'server-error') return reply(jsonError(500, 'InternalException', 'Internal service failure.'));
    return reply(handleEventsAction(action, body, eventsContext));
  }

  function handleQuery(req: IncomingMessage, raw: string, requestId: string): Reply {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Form bodies decode `+` as space; URLSearchParams implements application/x-www-form-urlencoded exactly.
    const all = new URLSearchParams(url.search);
    for (const [k, v] of new URLSearchParams(raw)) all.set(k, v);
    const action = all.get('Action') ?? '';
    const params: Record<string, string> = {};
    for (const [k, v] of all) if (k !== 'Action' && k !== 'Version') params[k] = v;
    const authorization = header(req, 'authorization');
    const service = queryServiceOf(authorization, action);
    const fail = (error: QueryError) => queryReply(service, action, params, queryErrorReply(service, error, requestId));
    const authProblem = authorizationProblem(authorization, req.url);
    if (authProblem) return fail(new QueryError(authProblem.status, authProblem.queryCode, authProblem.message));
    if (action === '') return fail(new QueryError(400, 'MissingAction', 'Missing Action'));
    if (faults.hangs(action)) return { service, action, params, status: 0, contentType: '', body: '', hang: true };
    const fault = faults.pick(action);
    if (fault === 'throttle') return fail(new QueryError(400, 'Throttling', 'Rate exceeded'));
    if (fault === 'server-error') {
      const message = 'The request processing has failed because of an unknown error, exception or failure.';
      return fail(new QueryError(500, 'ServiceFailure', message, 'Receiver'));
    }
    return queryReply(
      service,
      action,
      params,
      handleQueryAction(service, action, params, { state, faults, requestId }),
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const requestId = randomUUID();
    const raw = await readBody(req);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    const target = header(req, 'x-amz-target');
    const reply = target === undefined ? handleQuery(req, raw, requestId) : handleJson(req, target, raw);
    calls.push({ service: reply.service, action: reply.action, status: reply.status, params: reply.params, at });
    if (reply.hang === true) return;
    res.writeHead(reply.status, {
      'content-type': reply.contentType,
      'content-length': Buffer.byteLength(reply.body),
      'x-amzn-requestid': requestId,
    });
    res.end(reply.body);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('aws-emulator: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('aws-emulator internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; drop them so close() does not wait for their idle timeout.
        server.closeAllConnections();
      }),
    putRole: (roleName, trustPolicy, opts = {}) => state.put(roleName, documentToText(trustPolicy), opts).arn,
    getTrustPolicy: (roleName) => JSON.parse(state.require(roleName).documentText),
    getTrustPolicyText: (roleName) => state.require(roleName).documentText,
    setTrustPolicyQuota: (n) => {
      state.quota = n;
    },
    addOidcProvider: (issuerUrl) => state.principals.addProvider(issuerUrl).arn,
    oidcProviders: () => state.principals.providers.map((p) => p.arn),
    deleteOidcProvider: (arn) => {
      state.principals.deleteProvider(arn);
    },
    addExternalPrincipal: (arn) => state.principals.addExternal(arn),
    deleteRole: (nameOrArn) => {
      if (nameOrArn.startsWith('arn:') && !state.hasRoleArn(nameOrArn)) return state.deleteExternal(nameOrArn);
      const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').at(-1) ?? '') : nameOrArn;
      const { roleId } = state.require(name);
      state.deleteRole(name);
      return roleId;
    },
    denyActions: (actions) => {
      state.denied.clear();
      for (const action of actions) state.denied.add(action);
    },
    calls,
    count: (action) => calls.filter((c) => c.action === action).length,
    resetCalls: () => {
      calls.length = 0;
    },
    events,
    onEvents: (listener) => {
      listeners.push(listener);
    },
    idle: async () => {
      // Deliveries may schedule further deliveries; wait until the chain stops growing.
      let current: Promise<void>;
      do {
        current = deliveries;
        await current;
      } while (current !== deliveries);
    },
    setFaults: (next) => faults.set(next),
    putParameter: (name, value, type) => secrets.putParameter(name, value, type),
    putSecret: (name, value) => secrets.putSecret(name, value),
  };
}
