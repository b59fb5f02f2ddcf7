import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ArmError,
  checkApiVersion,
  concurrentWrites,
  invalidToken,
  missingAuthorization,
  serverError,
  throttled,
} from './arm-errors.ts';
import { CredentialStore, type IdentityRef, parseCredential } from './credential-store.ts';
import { AzureFaultInjector, type AzureFaults, WRITE_OPS } from './faults.ts';
import {
  isKeyVaultPath,
  type KeyVaultRoute,
  KeyVaultStore,
  type PutVaultSecretOptions,
  respondKeyVault,
} from './key-vault.ts';
import { errorReply, listPage, opOf, parseRoute, type Reply, type Route, readBody } from './routing.ts';
import { selfSignedCertificate } from './tls-cert.ts';

export type { AzureFaults } from './faults.ts';
export type { PutVaultSecretOptions } from './key-vault.ts';

export interface AzureEmulatorOptions {
  /** 0 (default) picks a free port. The server listens on 127.0.0.1 only. */
  port?: number;
  /** The only bearer token accepted; default 'azure-local-token'. */
  token?: string;
  /** Seed of the fault-injection RNG (default 1). */
  seed?: number;
  /** List page size (default 10), small enough that a full identity (20) needs nextLink paging. */
  pageSize?: number;
  /** Writes (PUT/DELETE) in flight per identity before 409 Concurrent... (default 1, the real behaviour). */
  maxConcurrentWrites?: number;
  /** The tenant Key Vault's 401 challenge names (default '00000000-0000-0000-0000-0000000000aa'). */
  tenantId?: string;
}

export interface AzureCall {
  method: string;
  /** The SDK operation (`list`, `get`, `createOrUpdate`, `delete`, or `getSecret` for Key Vault). */
  op: string;
  /** The Key Vault of a `getSecret` call (its subscription, resource group and identity stay ''). */
  vault?: string;
  /** The secret version a `getSecret` call asked for; undefined: the current one. */
  version?: string;
  subscriptionId: string;
  resourceGroup: string;
  identity: string;
  name?: string;
  status: number;
  at: number;
}

export interface AzureCredentialView {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface AzureEmulator {
  /** https://127.0.0.1:<port>: the client's `endpoint`. */
  readonly url: string;
  /** PEM to pass as `tlsOptions: { ca }`. */
  readonly ca: string;
  readonly token: string;
  close(): Promise<void>;
  putIdentity(subscriptionId: string, resourceGroup: string, name: string): void;
  /** Seeding: bypasses every rule and creates the identity if needed. */
  putCredential(
    subscriptionId: string,
    resourceGroup: string,
    identity: string,
    credential: { name: string; issuer: string; subject: string; audiences?: string[] },
  ): void;
  credentials(subscriptionId: string, resourceGroup: string, identity: string): AzureCredentialView[];
  /**
   * Key Vault base URL of the emulator (`https://127.0.0.1:<port>/keyvault`): vault `<v>` is served at
   * `<keyVaultEndpoint>/<v>`. Pass it as `endpoint` to `createAzureSecretResolver`.
   */
  readonly keyVaultEndpoint: string;
  /** The tenant named in Key Vault's challenge. */
  readonly tenantId: string;
  /** Key Vault seeding: adds a new current version of the secret (creating vault and secret) and returns it. */
  putSecret(vaultName: string, name: string, value: string, options?: PutVaultSecretOptions): string;
  /** Takes the caller's Get away (403 Forbidden, ForbiddenByRbac) on one secret, or on the vault without `name`. */
  denySecretAccess(vaultName: string, name?: string, denied?: boolean): void;
  readonly calls: ReadonlyArray<AzureCall>;
  count(op: string): number;
  resetCalls(): void;
  setFaults(faults: AzureFaults): void;
}

const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

export async function startAzureEmulator(options: AzureEmulatorOptions = {}): Promise<AzureEmulator> {
  const token = options.token ?? 'azure-local-token';
  const pageSize = Math.max(1, options.pageSize ?? 10);
  const maxConcurrentWrites = Math.max(1, options.maxConcurrentWrites ?? 1);
  const { key, cert } = await selfSignedCertificate();
  const store = new CredentialStore();
  const vaults = new KeyVaultStore();
  const tenantId = options.tenantId ?? '00000000-0000-0000-0000-0000000000aa';
  const faults = new AzureFaultInjector(options.seed ?? 1);
  const calls: AzureCall[] = [];
  const writesInFlight = new Map<string, number>();
  let baseUrl = '';

  function list(route: Route, url: URL, apiVersion: string): Reply {
    const result = listPage(store.list(route.ref), url, pageSize);
    if (result instanceof ArmError) return errorReply(result);
    const body: { value: unknown[]; nextLink?: string } = {
      value: result.page.map((c) => store.resource(route.ref, c)),
    };
    if (result.nextSkipToken !== undefined) {
      // Like ARM, the nextLink is absolute and carries api-version: the SDK's listNext sends it unchanged.
      const next = new URL(url.pathname, baseUrl);
      next.searchParams.set('api-version', apiVersion);
      next.searchParams.set('$skiptoken', result.nextSkipToken);
      const top = url.searchParams.get('$top');
      if (top !== null) next.searchParams.set('$top', top);
      body.nextLink = next.toString();
    }
    return { status: 200, body };
  }

  /** Holds the identity's write slot across the (delayed) write, so overlapping writes see each other. */
  async function write(route: Route, perform: () => Reply): Promise<Reply> {
    const slot = store.identityKey(route.ref);
    const inFlight = writesInFlight.get(slot) ?? 0;
    if (inFlight >= maxConcurrentWrites) {
      await sleep(faults.latencyMs);
      return { ...errorReply(concurrentWrites(store.identityId(route.ref))), delayed: true };
    }
    writesInFlight.set(slot, inFlight + 1);
    try {
      await sleep(faults.latencyMs);
      return { ...perform(), delayed: true };
    } finally {
      const left = (writesInFlight.get(slot) ?? 1) - 1;
      if (left === 0) writesInFlight.delete(slot);
      else writesInFlight.set(slot, left);
    }
  }

  async function operate(method: string, raw: string, route: Route, url: URL, apiVersion: string): Promise<Reply> {
    const op = opOf(method, route.name);
    if (faults.hangs(op)) return { status: 0, hang: true };
    // ARM throttles and fails before the provider looks at the resource, so these come before 404s and validation.
    const fault = faults.pick(op);
    if (fault !== undefined) {
      if (fault === 'throttle') return errorReply(throttled(faults.retryAfterSeconds));
      if (fault === 'server-error') return errorReply(serverError(faults.serverErrorStatus, faults.retryAfterSeconds));
      store.assertIdentity(route.ref);
      return errorReply(concurrentWrites(store.identityId(route.ref)));
    }
    store.assertIdentity(route.ref);
    const { name } = route;
    if (!WRITE_OPS.has(op)) {
      if (op === 'list') return list(route, url, apiVersion);
      if (op === 'get' && name !== undefined)
        return { status: 200, body: store.resource(route.ref, store.get(route.ref, name)) };
      return errorReply(new ArmError(405, 'MethodNotAllowed', `The HTTP method '${method}' is not supported.`));
    }
    if (name === undefined) {
      return errorReply(new ArmError(405, 'MethodNotAllowed', `The HTTP method '${method}' is not supported.`));
    }
    if (op === 'delete') {
      return write(route, () => ({ status: store.delete(route.ref, name) ? 200 : 204 }));
    }
    let body: unknown;
    try {
      body = raw === '' ? {} : JSON.parse(raw);
    } catch (error) {
      const message = `The request content was invalid and could not be deserialized: '${(error as Error).message}'.`;
      return errorReply(new ArmError(400, 'InvalidRequestContent', message));
    }
    return write(route, () => {
      const parsed = parseCredential(name, body);
      if (parsed instanceof ArmError) return errorReply(parsed);
      const { created, stored } = store.upsert(route.ref, parsed);
      return { status: created ? 201 : 200, body: store.resource(route.ref, stored) };
    });
  }

  async function respond(
    req: IncomingMessage,
    method: string,
  ): Promise<{ reply: Reply; route: Route | undefined; secret?: KeyVaultRoute }> {
    // Read the body even when refusing early, so a kept-alive connection stays in sync.
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    if (isKeyVaultPath(url.pathname) && faults.hangs('getSecret')) {
      return {
        reply: { status: 0, hang: true },
        route: undefined,
        secret: { vault: '', name: '', version: undefined },
      };
    }
    if (isKeyVaultPath(url.pathname)) {
      const { reply, route } = respondKeyVault({
        method,
        pathname: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        authorization: req.headers.authorization,
        token,
        tenantId,
        store: vaults,
        faults,
      });
      return { reply, route: undefined, secret: route ?? { vault: '', name: '', version: undefined } };
    }
    const route = parseRoute(url.pathname);
    // Order as at the ARM front door: authentication, then api-version, then routing to the provider.
    const authorization = req.headers.authorization;
    if (authorization === undefined) return { reply: errorReply(missingAuthorization()), route };
    if (authorization !== `Bearer ${token}`) return { reply: errorReply(invalidToken()), route };
    const apiVersion = checkApiVersion(url.searchParams.get('api-version'));
    if (apiVersion instanceof ArmError) return { reply: errorReply(apiVersion), route };
    if (route === undefined) {
      const message = `No route for '${method} ${url.pathname}' in the azure-emulator.`;
      return { reply: errorReply(new ArmError(404, 'InvalidResourceType', message)), route };
    }
    try {
      return { reply: await operate(method, raw, route, url, apiVersion), route };
    } catch (error) {
      if (error instanceof ArmError) return { reply: errorReply(error), route };
      throw error;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = req.method ?? 'GET';
    const { reply, route, secret } = await respond(req, method);
    // Writes already waited while holding their identity's write slot; everything else waits here.
    if (reply.delayed !== true) await sleep(faults.latencyMs);
    const call: AzureCall = {
      method,
      op: secret === undefined ? opOf(method, route?.name) : 'getSecret',
      subscriptionId: route?.ref.subscriptionId ?? '',
      resourceGroup: route?.ref.resourceGroup ?? '',
      identity: route?.ref.identity ?? '',
      status: reply.status,
      at,
    };
    if (route?.name !== undefined) call.name = route.name;
    if (secret !== undefined) {
      call.vault = secret.vault;
      call.name = secret.name;
      if (secret.version !== undefined) call.version = secret.version;
    }
    calls.push(call);
    if (reply.hang === true) return;
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(text === '' ? {} : { 'content-type': 'application/json; charset=utf-8' }),
      'content-length': Buffer.byteLength(text),
      'x-ms-request-id': randomUUID(),
      ...reply.headers,
    });
    res.end(text);
  }

  const server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('azure-emulator: request failed', error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('azure-emulator internal error');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `https://127.0.0.1:${port}`;
  const ref = (subscriptionId: string, resourceGroup: string, identity: string): IdentityRef => ({
    subscriptionId,
    resourceGroup,
    identity,
  });

  return {
    url: baseUrl,
    ca: cert,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // SDK clients keep connections alive; drop them so close() does not wait for their idle timeout.
        server.closeAllConnections();
      }),
    putIdentity: (sub, rg, name) => store.putIdentity(ref(sub, rg, name)),
    putCredential: (sub, rg, identity, c) =>
      store.seed(ref(sub, rg, identity), { ...c, audiences: c.audiences ?? [DEFAULT_AUDIENCE] }),
    credentials: (sub, rg, identity) => store.list(ref(sub, rg, identity)),
    keyVaultEndpoint: `${baseUrl}/keyvault`,
    tenantId,
    putSecret: (vaultName, name, value, putOptions) => vaults.put(vaultName, name, value, putOptions),
    denySecretAccess: (vaultName, name, denied = true) => vaults.deny(vaultName, name, denied),
    calls,
    count: (op) => calls.filter((c) => c.op === op).length,
    resetCalls: () => {
      calls.length = 0;
    },
    setFaults: (next) => faults.set(next),
  };
}
