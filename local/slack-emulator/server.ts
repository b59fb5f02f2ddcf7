import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { blocksProblem } from './block-limits.ts';
import { BodyTooLargeError, parseApiBody, parseWebhookBody, readBody } from './request-body.ts';

/**
 * A loopback stand-in for Slack's Web API (`chat.postMessage`, `auth.test`) and one incoming webhook, close enough
 * that the real `@slack/web-api` and `@slack/webhook` clients run against it unchanged: same status codes, error
 * codes, `Retry-After` on 429 and Block Kit limits, so retry and truncation logic is exercised for real.
 */

export type SlackEmulatorFailure = { status: 429; retryAfterSeconds: number } | { status: 500 } | { error: string };

export interface SlackEmulatorMessage {
  readonly via: 'web-api' | 'webhook';
  readonly channel?: string;
  readonly text?: string;
  readonly blocks?: unknown[];
  readonly at: number;
}

interface SlackEmulatorOptions {
  port?: number;
  token?: string;
  channels?: string[];
}

export interface SlackEmulator {
  readonly url: string;
  readonly apiUrl: string;
  readonly webhookUrl: string;
  readonly messages: ReadonlyArray<SlackEmulatorMessage>;
  /** Requests received on known routes, refused or not: lets a test prove a client retried. */
  readonly requestCount: number;
  failNext(n: number, failure: SlackEmulatorFailure): void;
  setDown(down: boolean): void;
  /** Accept requests and never answer them (counted in requestCount, never recorded as messages). */
  setHang(hang: boolean): void;
  reset(): void;
  close(): Promise<void>;
}

interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Record<string, string>;
}

const DEFAULT_TOKEN = 'xoxb-local-test-token';
const API_METHODS = new Set(['chat.postMessage', 'auth.test']);
/** Incoming webhooks answer errors with a status per code; anything unlisted is a 400 like `invalid_payload`. */
const WEBHOOK_ERROR_STATUS: Readonly<Record<string, number>> = {
  action_prohibited: 403,
  channel_not_found: 404,
  no_service: 404,
  channel_is_archived: 410,
};

function json(status: number, value: unknown, headers?: Record<string, string>): Reply {
  const reply = { status, body: JSON.stringify(value), contentType: 'application/json; charset=utf-8' };
  return headers === undefined ? reply : { ...reply, headers };
}

function plain(status: number, body: string, headers?: Record<string, string>): Reply {
  const reply = { status, body, contentType: 'text/plain; charset=utf-8' };
  return headers === undefined ? reply : { ...reply, headers };
}

function failureReply(failure: SlackEmulatorFailure, via: SlackEmulatorMessage['via']): Reply {
  if ('error' in failure) {
    return via === 'web-api'
      ? json(200, { ok: false, error: failure.error })
      : plain(WEBHOOK_ERROR_STATUS[failure.error] ?? 400, failure.error);
  }
  if (failure.status === 429) {
    const headers = { 'Retry-After': String(failure.retryAfterSeconds) };
    return via === 'web-api'
      ? json(429, { ok: false, error: 'ratelimited' }, headers)
      : plain(429, 'rate_limited', headers);
  }
  return via === 'web-api' ? json(500, { ok: false, error: 'internal_error' }) : plain(500, 'internal_error');
}

function stringField(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function hasBlocks(blocks: unknown): boolean {
  return blocks !== undefined && !(Array.isArray(blocks) && blocks.length === 0);
}

export async function startSlackEmulator(options: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const token = options.token ?? DEFAULT_TOKEN;
  const channels = options.channels === undefined ? undefined : new Set(options.channels);
  // The random part is what makes a real webhook URL a secret; keeping it here lets tests check it is never logged.
  const webhookPath = `/services/T000LOCAL/B000LOCAL/${randomBytes(12).toString('hex')}`;
  let messages: SlackEmulatorMessage[] = [];
  let failures: SlackEmulatorFailure[] = [];
  let down = false;
  let hang = false;
  let requestCount = 0;
  let sequence = 0;

  function record(message: SlackEmulatorMessage): string {
    messages.push(message);
    sequence += 1;
    // Slack's ts is "<unix seconds>.<6 digits>" and unique per channel; a counter keeps it unique here.
    return `${Math.floor(message.at / 1000)}.${String(sequence).padStart(6, '0')}`;
  }

  function handleApi(method: string, request: IncomingMessage, raw: string): Reply {
    const parsed = parseApiBody(request.headers['content-type'], raw);
    if (!parsed.ok) return json(200, { ok: false, error: 'invalid_json' });
    const { fields } = parsed;
    const header = request.headers.authorization;
    const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : stringField(fields, 'token');
    if (presented === undefined || presented === '') return json(200, { ok: false, error: 'not_authed' });
    if (presented !== token) return json(200, { ok: false, error: 'invalid_auth' });
    if (method === 'auth.test') {
      return json(200, {
        ok: true,
        url: 'https://local-emulator.slack.com/',
        team: 'Local',
        user: 'astro-identity-sync',
        team_id: 'T000LOCAL',
        user_id: 'U000LOCAL',
        bot_id: 'B000LOCAL',
      });
    }
    const channel = stringField(fields, 'channel');
    if (channel === undefined || (channels !== undefined && !channels.has(channel))) {
      return json(200, { ok: false, error: 'channel_not_found' });
    }
    const text = stringField(fields, 'text');
    const blocks = fields.blocks;
    if (text === undefined && !hasBlocks(blocks)) return json(200, { ok: false, error: 'no_text' });
    if (blocks !== undefined) {
      const problem = blocksProblem(blocks);
      if (problem) return json(200, { ok: false, error: problem.code, errors: [problem.detail] });
    }
    const message = {
      via: 'web-api' as const,
      channel,
      at: Date.now(),
      ...(text === undefined ? {} : { text }),
      ...(Array.isArray(blocks) ? { blocks: blocks as unknown[] } : {}),
    };
    const ts = record(message);
    return json(200, {
      ok: true,
      channel,
      ts,
      message: { type: 'message', subtype: 'bot_message', bot_id: 'B000LOCAL', ts, text: text ?? '', blocks },
    });
  }

  function handleWebhook(request: IncomingMessage, raw: string): Reply {
    const parsed = parseWebhookBody(request.headers['content-type'], raw);
    if (!parsed.ok) return plain(400, 'invalid_payload');
    const text = stringField(parsed.fields, 'text');
    const blocks = parsed.fields.blocks;
    if (text === undefined && !hasBlocks(blocks)) return plain(400, 'no_text');
    if (blocks !== undefined) {
      const problem = blocksProblem(blocks);
      if (problem) return plain(400, problem.code);
    }
    record({
      via: 'webhook',
      at: Date.now(),
      ...(text === undefined ? {} : { text }),
      ...(Array.isArray(blocks) ? { blocks: blocks as unknown[] } : {}),
    });
    return plain(200, 'ok');
  }

  async function route(request: IncomingMessage): Promise<Reply | undefined> {
    // The body is read before any answer so keep-alive connections stay usable after a refusal.
    let raw: string;
    try {
      raw = await readBody(request);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return plain(413, 'request_too_large');
      throw error;
    }
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const apiMethod = path.startsWith('/api/') ? path.slice('/api/'.length) : undefined;
    if (apiMethod !== undefined && !API_METHODS.has(apiMethod)) {
      return json(404, { ok: false, error: 'unknown_method' });
    }
    if (apiMethod === undefined && path !== webhookPath) return plain(404, 'no_service');
    requestCount += 1;
    if (hang) return undefined;
    if (down) return plain(503, 'service_unavailable');
    if (request.method !== 'POST') return plain(405, 'method_not_allowed');
    const failure = failures.shift();
    if (failure !== undefined) return failureReply(failure, apiMethod === undefined ? 'webhook' : 'web-api');
    return apiMethod === undefined ? handleWebhook(request, raw) : handleApi(apiMethod, request, raw);
  }

  function respond(response: ServerResponse, reply: Reply): void {
    response.writeHead(reply.status, { 'Content-Type': reply.contentType, ...reply.headers });
    response.end(reply.body);
  }

  const server = createServer((request, response) => {
    route(request).then(
      (reply) => {
        // Left open: the client's own timeout (or close()) ends it.
        if (reply !== undefined) respond(response, reply);
      },
      (error: unknown) => respond(response, plain(500, `emulator error: ${String(error)}`)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    apiUrl: `${url}/api/`,
    webhookUrl: `${url}${webhookPath}`,
    get messages() {
      return messages;
    },
    get requestCount() {
      return requestCount;
    },
    failNext(n, failure) {
      for (let i = 0; i < n; i += 1) failures.push(failure);
    },
    setDown(value) {
      down = value;
    },
    setHang(value) {
      hang = value;
    },
    reset() {
      messages = [];
      failures = [];
      down = false;
      hang = false;
      requestCount = 0;
    },
    close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      // Clients keep connections alive; without closing them server.close() would wait for their idle timeout.
      server.closeAllConnections();
      return closed;
    },
  };
}
