import type { FetchFunction, Logger } from '@slack/web-api';
import type { FetchFunction as WebhookFetchFunction } from '@slack/webhook';
import type { EventReport } from '../../shared/report/outcome.ts';
import type { SlackMessage, SlackNotifyPolicy } from '../../shared/report/slack-blocks.ts';
import {
  formatRejectedEvent,
  formatSlackMessage,
  type RejectedEvent,
  shouldNotify,
} from '../../shared/report/slack-message.ts';
import type { Logger as LoggerPort } from './logger.ts';
import { withRetries } from './retry.ts';

/**
 * The Slack edge shared by the AWS, GCP and Azure functions. A Slack problem must never fail the grant that was just
 * made (the cloud write already happened), so notify() resolves in every case and reports the failure in its result
 * and in the log, never with the bot token or the webhook URL, both of which are credentials.
 */

export type SlackSettings =
  | { mode: 'off' }
  | { mode: 'web-api'; token: string; channel: string; notify: SlackNotifyPolicy; slackApiUrl?: string }
  | { mode: 'webhook'; webhookUrl: string; notify: SlackNotifyPolicy };

interface SlackNotifierOptions {
  logger?: LoggerPort;
  /** Retries after the first attempt, for 429, 5xx and network errors. */
  retries?: number;
  /** Longest single wait; a Retry-After beyond it gives up instead of holding the function past its budget. */
  maxRetryWaitMs?: number;
  /** Per HTTP attempt (default 10000); Slack answers in well under a second, so a hung connection is a failure. */
  timeoutMs?: number;
}

export interface NotifyResult {
  posted: boolean;
  skipped?: 'policy' | 'off';
  error?: string;
}

export interface SlackNotifier {
  notify(report: EventReport): Promise<NotifyResult>;
  /** An event that was refused before any target was planned (an unknown Deployment, a refused deletion). */
  rejected(event: RejectedEvent): Promise<NotifyResult>;
  /** Posts an already formatted message (the poll/sweep summary); the notify policy was applied by the caller. */
  post(message: SlackMessage, context: Record<string, unknown>): Promise<NotifyResult>;
}

const DEFAULT_RETRIES = 2;
const OUTBOX_LIMIT = 50;
const TRANSIENT = /http 5\d\d|429|rate_?limited|timed? ?out|ECONN|fetch failed|network|socket/i;
const DEFAULT_MAX_RETRY_WAIT_MS = 5_000;
const FIRST_BACKOFF_MS = 250;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Default sink: warnings and errors to stderr as JSON lines; info is dropped because callers pass a real logger. */
const stderrLogger: LoggerPort = {
  debug() {},
  info() {},
  warn(msg, extra) {
    console.warn(JSON.stringify({ level: 'WARN', message: msg, ...extra }));
  },
  error(msg, extra) {
    console.error(JSON.stringify({ level: 'ERROR', message: msg, ...extra }));
  },
  child: () => stderrLogger,
};

/** Replaces every secret with a marker; applied to anything that leaves this module as text. */
function redactor(secrets: readonly string[]): (text: string) => string {
  const present = secrets.filter((secret) => secret.length >= 8);
  return (text) => present.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** The path of a webhook URL (its last segment above all) is the secret; redact each in case a message quotes one. */
function webhookSecrets(webhookUrl: string): string[] {
  try {
    const { pathname } = new URL(webhookUrl);
    return [webhookUrl, pathname, pathname.split('/').at(-1) ?? ''];
  } catch {
    return [webhookUrl];
  }
}

function retryAfterMs(header: string | null): number | undefined {
  const seconds = header === null ? Number.NaN : Number.parseInt(header, 10);
  return Number.isNaN(seconds) ? undefined : Math.max(0, seconds) * 1000;
}

/** Routes the SDK's own log lines (rate-limit waits, request failures) into ours, minus debug noise. */
function sdkLogger(logger: LoggerPort, redact: (text: string) => string, infoLevel: Logger['getLevel']): Logger {
  const line = (parts: unknown[]) => redact(parts.map(String).join(' '));
  return {
    debug() {},
    info: (...parts: unknown[]) => logger.info(line(parts), { source: '@slack/web-api' }),
    warn: (...parts: unknown[]) => logger.warn(line(parts), { source: '@slack/web-api' }),
    error: (...parts: unknown[]) => logger.error(line(parts), { source: '@slack/web-api' }),
    setLevel() {},
    getLevel: infoLevel,
    setName() {},
  };
}

/**
 * WebClient sleeps for whatever Retry-After says, however long. Past the cap, this turns the 429 into the answer
 * Slack gives a refused call (`ok: false, error: ratelimited`), which WebClient reports without retrying.
 */
function capRateLimitWait(maxWaitMs: number): FetchFunction {
  return async (url, init) => {
    const response = await fetch(url, init);
    const wait = response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
    if (wait === undefined || wait <= maxWaitMs) return response;
    return new Response(JSON.stringify({ ok: false, error: 'ratelimited' }), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  };
}

/** How one mode sends a message and explains a failure; the SDK behind it is loaded on the first message. */
interface Transport {
  post(message: SlackMessage): Promise<void>;
  describe(error: unknown): string;
}

type WebApi = typeof import('@slack/web-api');
type WebhookSdk = typeof import('@slack/webhook');

function webApiTransport(
  sdk: WebApi,
  settings: Extract<SlackSettings, { mode: 'web-api' }>,
  logger: LoggerPort,
  retries: number,
  maxWaitMs: number,
  timeoutMs: number,
): Transport {
  const client = new sdk.WebClient(settings.token, {
    ...(settings.slackApiUrl === undefined ? {} : { slackApiUrl: settings.slackApiUrl }),
    // Bounded: the SDK default (ten retries over about 30 minutes) would outlive any function invocation.
    retryConfig: { retries, factor: 2, minTimeout: Math.min(FIRST_BACKOFF_MS, maxWaitMs), maxTimeout: maxWaitMs },
    // false: a 429 waits for Retry-After and retries instead of failing at once (capRateLimitWait bounds the wait).
    rejectRateLimitedCalls: false,
    timeout: timeoutMs,
    logger: sdkLogger(logger, redactor([settings.token]), () => sdk.LogLevel.INFO),
    fetch: capRateLimitWait(maxWaitMs),
  });
  return {
    async post(message) {
      await client.chat.postMessage({ channel: settings.channel, text: message.text, blocks: message.blocks });
    },
    describe(error) {
      if (error instanceof sdk.WebAPIPlatformError) return error.data.error;
      if (error instanceof sdk.WebAPIHTTPError) return `http ${error.statusCode}`;
      if (error instanceof sdk.WebAPIRequestError) return `request failed: ${error.original.message}`;
      return error instanceof Error ? error.message : String(error);
    },
  };
}

/** A 429 or 5xx seen by our fetch wrapper, thrown so the retry loop can read Retry-After (the SDK error lacks it). */
class RetryableResponse extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
    readonly body: string,
  ) {
    super(`HTTP ${status}: ${body}`);
  }
}

/** Surfaces retryable answers as RetryableResponse; IncomingWebhook then wraps it as a request error's `original`. */
const signalRetryable: WebhookFetchFunction = async (url, init) => {
  const response = await fetch(url, init);
  if (response.status !== 429 && response.status < 500) return response;
  const body = (await response.text()).slice(0, 200);
  throw new RetryableResponse(response.status, retryAfterMs(response.headers.get('retry-after')), body);
};

function webhookTransport(
  sdk: WebhookSdk,
  settings: Extract<SlackSettings, { mode: 'webhook' }>,
  retries: number,
  maxWaitMs: number,
  timeoutMs: number,
): Transport {
  // retries: 0 because the SDK never retries 429 and cannot see Retry-After; the loop below does both.
  const webhook = new sdk.IncomingWebhook(settings.webhookUrl, {
    timeout: timeoutMs,
    retryConfig: { retries: 0 },
    fetch: signalRetryable,
  });
  return {
    async post(message) {
      await withRetries(() => webhook.send({ text: message.text, blocks: message.blocks }), {
        retries,
        minTimeoutMs: Math.min(FIRST_BACKOFF_MS, maxWaitMs),
        maxTimeoutMs: maxWaitMs,
        // Only transport failures and 429/5xx are worth another try; a 4xx (invalid_blocks, no_service) never heals.
        retryable: (error) => error instanceof sdk.IncomingWebhookRequestError,
        waitMs: (error) =>
          error instanceof sdk.IncomingWebhookRequestError && error.original instanceof RetryableResponse
            ? error.original.retryAfterMs
            : undefined,
      });
    },
    describe(error) {
      if (error instanceof sdk.IncomingWebhookHTTPError) return `http ${error.statusCode}: ${error.body.slice(0, 200)}`;
      if (error instanceof sdk.IncomingWebhookRequestError) {
        const { original } = error;
        return original instanceof RetryableResponse
          ? `http ${original.status}: ${original.body}`
          : `request failed: ${original.message}`;
      }
      return error instanceof Error ? error.message : String(error);
    },
  };
}

export function createSlackNotifier(settings: SlackSettings, options: SlackNotifierOptions = {}): SlackNotifier {
  const logger = options.logger ?? stderrLogger;
  const retries = Math.max(0, Math.floor(options.retries ?? DEFAULT_RETRIES));
  const maxWaitMs = Math.max(0, options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS);
  const timeoutMs = Math.max(1, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (settings.mode === 'off') {
    const off = async (): Promise<NotifyResult> => ({ posted: false, skipped: 'off' });
    return { notify: off, rejected: off, post: off };
  }
  // The client is built once per notifier (per cold start) and reused for every event, but only when the first
  // message is sent: most events change nothing, and a function instance that never posts never loads the SDK.
  let transport: Promise<Transport> | undefined;
  const load = () => {
    transport ??=
      settings.mode === 'web-api'
        ? import('@slack/web-api').then((sdk) => webApiTransport(sdk, settings, logger, retries, maxWaitMs, timeoutMs))
        : import('@slack/webhook').then((sdk) => webhookTransport(sdk, settings, retries, maxWaitMs, timeoutMs));
    return transport;
  };
  const post = async (message: SlackMessage) => (await load()).post(message);
  const describe = async (error: unknown) => (await load()).describe(error);
  const redact = redactor(settings.mode === 'web-api' ? [settings.token] : webhookSecrets(settings.webhookUrl));
  const policy = settings.notify;

  // Messages that failed during a Slack outage, delivered (oldest first, each once) when Slack answers again on this
  // warm instance. Bounded, so an outage cannot grow memory without limit; the oldest are dropped and counted.
  const outbox: SlackMessage[] = [];
  let dropped = 0;
  const flush = async () => {
    while (outbox.length > 0) {
      const [next] = outbox;
      if (next === undefined) break;
      await post(next);
      outbox.shift();
      logger.info('Slack notification delivered after an outage', { mode: settings.mode, waiting: outbox.length });
    }
    if (dropped > 0) {
      logger.warn('Slack notifications dropped during an outage', { mode: settings.mode, dropped });
      dropped = 0;
    }
  };
  const send = async (message: SlackMessage, context: Record<string, unknown>): Promise<NotifyResult> => {
    try {
      await flush();
      await post(message);
      logger.info('Slack notification posted', context);
      return { posted: true };
    } catch (error) {
      const reason = redact(await describe(error));
      // Only an outage is worth waiting out; a bad token or channel would block every later message.
      const transient = TRANSIENT.test(reason);
      logger.error(
        transient ? 'Slack notification failed; kept to resend when Slack answers' : 'Slack notification failed',
        {
          ...context,
          error: reason,
        },
      );
      if (transient && !outbox.includes(message)) {
        outbox.push(message);
        if (outbox.length > OUTBOX_LIMIT) {
          outbox.shift();
          dropped += 1;
        }
      }
      return { posted: false, error: reason };
    }
  };
  return {
    async notify(report) {
      const context = { mode: settings.mode, eventId: report.eventId, deployment: report.deployment.name };
      if (!shouldNotify(report, policy)) {
        logger.info('Slack notification skipped by policy', { ...context, policy });
        return { posted: false, skipped: 'policy' };
      }
      return send(formatSlackMessage(report), context);
    },
    // A refused event is a failure a person must see under every policy: nothing was planned for it.
    rejected: (event) =>
      send(formatRejectedEvent(event), {
        mode: settings.mode,
        eventId: event.eventId,
        deploymentId: event.deploymentId,
      }),
    post: (message, context) => send(message, { mode: settings.mode, ...context }),
  };
}
