import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import functions, { type HttpHandler, type InvocationContext, type LogLevel } from '@azure/functions';

// CommonJS package: Node's ESM loader does not see its named value exports.
const { HttpRequest, HttpResponse, InvocationContext: Context } = functions;

export type LocalLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

export interface LogLine {
  readonly functionName: string;
  readonly level: LogLevel;
  readonly text: string;
}

export interface ContextOptions {
  /** What reaches the console; every line is also handed to `onLog`. */
  readonly logLevel?: LocalLogLevel;
  readonly onLog?: (line: LogLine) => void;
  /** Queue triggers: `{ id, dequeueCount, ... }` as the host passes them. */
  readonly triggerMetadata?: Record<string, unknown>;
}

const RANK: Record<LogLevel, number> = {
  trace: 0,
  debug: 1,
  information: 2,
  warning: 3,
  error: 4,
  critical: 5,
  none: 6,
};
const THRESHOLD: Record<LocalLogLevel, number> = { DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, SILENT: 7 };

/** An InvocationContext as the host builds it, with logs routed to the console (filtered) and to `onLog`. */
export function invocationContext(functionName: string, options: ContextOptions = {}): InvocationContext {
  const threshold = THRESHOLD[options.logLevel ?? 'SILENT'];
  return new Context({
    invocationId: randomUUID(),
    functionName,
    ...(options.triggerMetadata === undefined ? {} : { triggerMetadata: options.triggerMetadata }),
    logHandler: (level, ...args) => {
      const text = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
      options.onLog?.({ functionName, level, text });
      if (RANK[level] >= threshold) (RANK[level] >= RANK.warning ? console.error : console.log)(text);
    },
  });
}

/** Converts a node:http request into the HttpRequest the v4 worker hands to a handler (the raw bytes, untouched). */
function toHttpRequest(req: IncomingMessage, body: Buffer, baseUrl: string): InstanceType<typeof HttpRequest> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const method = req.method ?? 'GET';
  // Fetch requests cannot carry a body on GET/HEAD; the host drops it too.
  const withBody = body.length > 0 && method !== 'GET' && method !== 'HEAD';
  return new HttpRequest({
    method,
    url: new URL(req.url ?? '/', baseUrl).toString(),
    headers,
    ...(withBody ? { body: { bytes: new Uint8Array(body) } } : {}),
  });
}

export interface AzureFunctionsHttpServer {
  /** http://127.0.0.1:<port>; routes are served under it as in a function app (`/api/webhook`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves Azure Functions HTTP handlers on loopback by path, as the Functions host would (`/api/<route>`). */
export async function startAzureFunctionsHttpServer(options: {
  routes: Record<string, { name: string; handler: HttpHandler }>;
  port?: number;
  host?: string;
  context?: Omit<ContextOptions, 'triggerMetadata'>;
}): Promise<AzureFunctionsHttpServer> {
  let baseUrl = '';
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const route = options.routes[new URL(req.url ?? '/', 'http://localhost').pathname];
    if (route === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"code":"not_found","message":"no function here"}}');
      return;
    }
    try {
      const request = toHttpRequest(req, Buffer.concat(chunks), baseUrl);
      const result = await route.handler(request, invocationContext(route.name, options.context));
      // Handlers may answer an HttpResponseInit or an HttpResponse; the constructor accepts both shapes' fields.
      const response = result instanceof HttpResponse ? result : new HttpResponse(result);
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name] = value;
      });
      res.writeHead(response.status, headers).end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      // An unhandled exception is what the host answers with a bare 500.
      console.error(`${route.name} crashed:`, error);
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
