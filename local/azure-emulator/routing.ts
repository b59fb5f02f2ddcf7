import type { IncomingMessage } from 'node:http';
import { ArmError } from './arm-errors.ts';
import type { IdentityRef } from './credential-store.ts';

const MAX_BODY_BYTES = 1024 * 1024;
// ARM path segments are case-insensitive (clients send `resourceGroups`, ids come back as `resourcegroups`).
const ROUTE =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.managedidentity\/userassignedidentities\/([^/]+)\/federatedidentitycredentials(?:\/([^/]+))?\/?$/i;

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
  /** True when the fault latency was already spent (writes spend it while holding the identity's write slot). */
  delayed?: boolean;
  /** Leave the request unanswered (the `hang` fault). */
  hang?: boolean;
}

export interface Route {
  ref: IdentityRef;
  /** The credential name; undefined for the collection (list). */
  name: string | undefined;
}

export function readBody(req: IncomingMessage): Promise<string> {
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

export function parseRoute(pathname: string): Route | undefined {
  const match = ROUTE.exec(pathname);
  if (match === null) return undefined;
  const [, sub = '', rg = '', identity = '', name] = match;
  try {
    // The SDK URL-encodes each segment (a resource group `rg 1` arrives as `rg%201`).
    const ref = {
      subscriptionId: decodeURIComponent(sub),
      resourceGroup: decodeURIComponent(rg),
      identity: decodeURIComponent(identity),
    };
    return { ref, name: name === undefined ? undefined : decodeURIComponent(name) };
  } catch {
    return undefined;
  }
}

/** The SDK method a request corresponds to; the call log and `AzureFaults.ops` use these names. */
export function opOf(method: string, name: string | undefined): string {
  if (method === 'GET') return name === undefined ? 'list' : 'get';
  if (method === 'PUT') return 'createOrUpdate';
  if (method === 'DELETE') return 'delete';
  return method.toLowerCase();
}

export function errorReply(error: ArmError): Reply {
  return { status: error.status, body: error.body(), headers: error.headers };
}

/** Slices one list page; `$skiptoken` is an opaque offset to clients, `$top` can only shrink the page. */
export function listPage<T>(
  items: readonly T[],
  url: URL,
  pageSize: number,
): { page: T[]; nextSkipToken: string | undefined } | ArmError {
  const skip = url.searchParams.get('$skiptoken') ?? '0';
  const offset = /^\d{1,9}$/.test(skip) ? Number(skip) : Number.NaN;
  if (Number.isNaN(offset)) return new ArmError(400, 'BadRequest', `The skip token '${skip}' is invalid.`);
  const top = Number(url.searchParams.get('$top') ?? pageSize);
  const size = Number.isInteger(top) && top >= 1 ? Math.min(top, pageSize) : pageSize;
  const page = items.slice(offset, offset + size);
  return { page, nextSkipToken: offset + size < items.length ? String(offset + size) : undefined };
}
