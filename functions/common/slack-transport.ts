import type { FetchFunction, Logger } from '@slack/web-api';
import type { FetchFunction as WebhookFetchFunction } from '@slack/webhook';
import type { SlackMessage } from '../../shared/report/slack-blocks.ts';
import type { Logger as LoggerPort } from './logger.ts';
import { withRetries } from './retry.ts';
import type { SlackSettings } from './slack-notifier.ts';

/**
 * The two ways to reach Slack (the Web API's chat.postMessage, an incoming webhook), each with bounded retries that
 * honour Retry-After up to a cap, and a per-attempt timeout. Loaded with the SDK on the first message.
 */

const FIRST_BACKOFF_MS = 250;

/** Replaces every secret with a marker; applied to anything that leaves this module as text. */
export function redactor(secrets: readonly string[]): (text: string) => string {
  const present = secrets.filter((secret) => secret.length >= 8);
  return (text) => present.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
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
export interface Transport {
  post(message: SlackMessage): Promise<void>;
  describe(error: unknown): string;
}

export type WebApi = typeof import('@slack/web-api');
export type WebhookSdk = typeof import('@slack/webhook');

export function webApiTransport(
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

export function webhookTransport(
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
