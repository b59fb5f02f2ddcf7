import { type FetchFunction, WebClient } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../functions/common/logger.ts';
import { createSlackNotifier, type SlackSettings } from '../../functions/common/slack-notifier.ts';
import { type SlackEmulator, startSlackEmulator } from '../../local/slack-emulator/server.ts';
import { Deadline } from '../../shared/deadline.ts';
import type { EventReport, TargetResult } from '../../shared/report/outcome.ts';
import { formatSlackMessage } from '../../shared/report/slack-message.ts';

const TOKEN = 'xoxb-local-test-token';
const CHANNEL = 'C0PLATFORM';

function report(results: TargetResult[]): EventReport {
  return {
    eventId: 'evt-42',
    type: 'deployment.created',
    deployment: {
      id: 'dep1',
      name: '<!channel> etl',
      namespace: 'ns-abc',
      workspaceName: 'Data',
      cloudProvider: 'AWS',
    },
    dryRun: false,
    results,
  };
}

const changed = report([
  {
    cloud: 'aws',
    target: 'arn:aws:iam::123456789012:role/airflow',
    status: 'granted',
    added: ['system:serviceaccount:ns-abc:ns-abc-worker-serviceaccount'],
    removed: [],
    present: [],
  },
]);
const noOp = report([
  {
    cloud: 'aws',
    target: 'arn:aws:iam::123456789012:role/airflow',
    status: 'unchanged',
    added: [],
    removed: [],
    present: ['s'],
  },
]);

interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  extra: Record<string, unknown> | undefined;
}

function capture(): { logger: Logger; lines: LogLine[]; dump(): string } {
  const lines: LogLine[] = [];
  const push = (level: LogLine['level']) => (msg: string, extra?: Record<string, unknown>) => {
    lines.push({ level, msg, extra });
  };
  return {
    logger: {
      debug: () => undefined,
      info: push('info'),
      warn: push('warn'),
      error: push('error'),
      child() {
        return this;
      },
    },
    lines,
    dump: () => JSON.stringify(lines),
  };
}

let slack: SlackEmulator;
beforeAll(async () => {
  slack = await startSlackEmulator({ channels: [CHANNEL] });
});
afterEach(() => slack.reset());
afterAll(() => slack.close());

function webApi(token = TOKEN): Extract<SlackSettings, { mode: 'web-api' }> {
  return { mode: 'web-api', token, channel: CHANNEL, notify: 'changes-and-failures', slackApiUrl: slack.apiUrl };
}
function webhook(url = slack.webhookUrl): SlackSettings {
  return { mode: 'webhook', webhookUrl: url, notify: 'changes-and-failures' };
}
/** Short waits keep the suite fast; Retry-After of 1 s is still honoured because it fits under the cap. */
const fast = { retries: 2, maxRetryWaitMs: 1_000 };

describe('web-api mode (real @slack/web-api WebClient)', () => {
  it('posts the formatted message with its blocks', async () => {
    const log = capture();
    const result = await createSlackNotifier(webApi(), { ...fast, logger: log.logger }).notify(changed);
    expect(result).toEqual({ posted: true });
    expect(slack.messages).toHaveLength(1);
    const [message] = slack.messages;
    const expected = formatSlackMessage(changed);
    expect(message).toMatchObject({ via: 'web-api', channel: CHANNEL, text: expected.text });
    expect(message?.blocks).toEqual(JSON.parse(JSON.stringify(expected.blocks)));
    expect(log.lines.map((line) => line.msg)).toEqual(['Slack notification posted']);
  });

  it('reports an invalid token without logging it', async () => {
    const secret = 'xoxb-wrong-secret-123456';
    const log = capture();
    const result = await createSlackNotifier(webApi(secret), { ...fast, logger: log.logger }).notify(changed);
    expect(result).toEqual({ posted: false, error: 'invalid_auth' });
    expect(slack.messages).toHaveLength(0);
    expect(slack.requestCount).toBe(1);
    expect(log.lines.some((line) => line.level === 'error' && line.extra?.error === 'invalid_auth')).toBe(true);
    expect(log.dump()).not.toContain(secret);
  });

  it('waits for Retry-After on 429 and then posts once', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const log = capture();
    const started = Date.now();
    const result = await createSlackNotifier(webApi(), { ...fast, logger: log.logger }).notify(changed);
    expect(result).toEqual({ posted: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.requestCount).toBe(2);
    expect(slack.messages).toHaveLength(1);
    expect(log.dump()).toContain('rate limiting');
  });

  it('gives up at once when Retry-After exceeds the cap', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    const result = await createSlackNotifier(webApi(), { ...fast, logger: capture().logger }).notify(changed);
    expect(result).toEqual({ posted: false, kept: true, error: 'ratelimited' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(slack.requestCount).toBe(1);
  });

  it('retries a 500 and reports platform errors such as channel_not_found', async () => {
    slack.failNext(1, { status: 500 });
    const notifier = createSlackNotifier(webApi(), { retries: 1, maxRetryWaitMs: 50, logger: capture().logger });
    expect(await notifier.notify(changed)).toEqual({ posted: true });
    slack.failNext(1, { error: 'channel_not_found' });
    expect(await notifier.notify(changed)).toEqual({ posted: false, error: 'channel_not_found' });
    expect(slack.messages).toHaveLength(1);
  });

  it('resolves with posted false while Slack is down, after bounded retries', async () => {
    slack.setDown(true);
    const log = capture();
    const notifier = createSlackNotifier(webApi(), { retries: 2, maxRetryWaitMs: 50, logger: log.logger });
    await expect(notifier.notify(changed)).resolves.toEqual({ posted: false, kept: true, error: 'http 503' });
    expect(slack.requestCount).toBe(3);
    expect(log.dump()).not.toContain(TOKEN);
  });

  it('delivers what failed during an outage once Slack answers again, each message once and in order', async () => {
    const notifier = createSlackNotifier(webApi(), { retries: 0, maxRetryWaitMs: 50, logger: capture().logger });
    slack.setDown(true);
    await notifier.notify({ ...changed, eventId: 'evt-1' });
    await notifier.notify({ ...changed, eventId: 'evt-2' });
    expect(slack.messages).toHaveLength(0);
    slack.setDown(false);
    expect(await notifier.notify({ ...changed, eventId: 'evt-3' })).toEqual({ posted: true });
    expect(slack.messages.map((m) => /evt-\d/.exec(m.text ?? '')?.[0])).toEqual(['evt-1', 'evt-2', 'evt-3']);
    await notifier.notify({ ...changed, eventId: 'evt-4' });
    expect(slack.messages).toHaveLength(4);
  });

  it('does not hold back later messages behind a permanent error', async () => {
    const notifier = createSlackNotifier(webApi(), { retries: 0, maxRetryWaitMs: 50, logger: capture().logger });
    slack.failNext(1, { error: 'channel_not_found' });
    await notifier.notify({ ...changed, eventId: 'evt-bad' });
    expect(await notifier.notify({ ...changed, eventId: 'evt-good' })).toEqual({ posted: true });
    expect(slack.messages).toHaveLength(1);
  });

  it('skips no-op reports under the default policy without calling Slack', async () => {
    const result = await createSlackNotifier(webApi(), fast).notify(noOp);
    expect(result).toEqual({ posted: false, skipped: 'policy' });
    expect(slack.requestCount).toBe(0);
    const all = createSlackNotifier({ ...webApi(), notify: 'all' }, fast);
    expect(await all.notify(noOp)).toEqual({ posted: true });
  });

  it('does nothing when off', async () => {
    expect(await createSlackNotifier({ mode: 'off' }).notify(changed)).toEqual({ posted: false, skipped: 'off' });
    expect(slack.requestCount).toBe(0);
  });
});

describe('webhook mode (real @slack/webhook IncomingWebhook)', () => {
  it('posts the formatted message with its blocks', async () => {
    const result = await createSlackNotifier(webhook(), { ...fast, logger: capture().logger }).notify(changed);
    expect(result).toEqual({ posted: true });
    expect(slack.messages).toHaveLength(1);
    expect(slack.messages[0]).toMatchObject({ via: 'webhook', text: formatSlackMessage(changed).text });
    expect(slack.messages[0]?.blocks).toHaveLength(formatSlackMessage(changed).blocks.length);
  });

  it('retries 429 after Retry-After (the SDK alone never would) and posts once', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 1 });
    const started = Date.now();
    const result = await createSlackNotifier(webhook(), { ...fast, logger: capture().logger }).notify(changed);
    expect(result).toEqual({ posted: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.requestCount).toBe(2);
    expect(slack.messages).toHaveLength(1);
  });

  it('retries 500 with backoff and gives up past the retry budget', async () => {
    slack.failNext(1, { status: 500 });
    const notifier = createSlackNotifier(webhook(), { retries: 1, maxRetryWaitMs: 50, logger: capture().logger });
    expect(await notifier.notify(changed)).toEqual({ posted: true });
    slack.failNext(2, { status: 500 });
    expect(await notifier.notify(changed)).toEqual({ posted: false, kept: true, error: 'http 500: internal_error' });
    expect(slack.requestCount).toBe(4);
  });

  it('gives up when Retry-After exceeds the cap', async () => {
    slack.failNext(1, { status: 429, retryAfterSeconds: 30 });
    const result = await createSlackNotifier(webhook(), { ...fast, logger: capture().logger }).notify(changed);
    expect(result).toEqual({ posted: false, kept: true, error: 'http 429: rate_limited' });
    expect(slack.requestCount).toBe(1);
  });

  it('resolves with posted false while Slack is down and never logs the webhook URL', async () => {
    slack.setDown(true);
    const log = capture();
    const notifier = createSlackNotifier(webhook(), { retries: 2, maxRetryWaitMs: 50, logger: log.logger });
    await expect(notifier.notify(changed)).resolves.toEqual({
      posted: false,
      kept: true,
      error: 'http 503: service_unavailable',
    });
    expect(slack.requestCount).toBe(3);
    const secretPath = new URL(slack.webhookUrl).pathname;
    expect(log.dump()).not.toContain(secretPath.split('/').at(-1));
  });

  it('does not retry a revoked webhook (404 no_service) and keeps its URL out of the error', async () => {
    const revoked = `${slack.url}/services/T000LOCAL/B000LOCAL/revokedsecret0000`;
    const log = capture();
    const result = await createSlackNotifier(webhook(revoked), { ...fast, logger: log.logger }).notify(changed);
    expect(result).toEqual({ posted: false, error: 'http 404: no_service' });
    expect(log.dump()).not.toContain('revokedsecret0000');
  });

  it('redacts the URL from transport errors when nothing listens', async () => {
    const closed = await startSlackEmulator();
    const url = closed.webhookUrl;
    await closed.close();
    const log = capture();
    const result = await createSlackNotifier(webhook(url), {
      retries: 1,
      maxRetryWaitMs: 20,
      logger: log.logger,
    }).notify(changed);
    expect(result.posted).toBe(false);
    expect(result.error).toMatch(/^request failed/);
    expect(log.dump()).not.toContain(new URL(url).pathname);
  });

  it('skips no-op reports under the default policy', async () => {
    expect(await createSlackNotifier(webhook(), fast).notify(noOp)).toEqual({ posted: false, skipped: 'policy' });
    expect(slack.requestCount).toBe(0);
  });
});

describe('emulator fidelity', () => {
  it('receives form-encoded bodies with JSON-stringified blocks from the real WebClient', async () => {
    const seen: Array<string | undefined> = [];
    const recording: FetchFunction = (url, init) => {
      seen.push(init?.headers?.['Content-Type']);
      return fetch(url, init);
    };
    const client = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, fetch: recording, retryConfig: { retries: 0 } });
    await client.chat.postMessage({ channel: CHANNEL, text: 'hi', blocks: [{ type: 'divider' }] });
    expect(seen).toEqual(['application/x-www-form-urlencoded']);
    expect(slack.messages[0]?.blocks).toEqual([{ type: 'divider' }]);
    await expect(client.auth.test()).resolves.toMatchObject({ ok: true, team_id: 'T000LOCAL' });
  });

  async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${slack.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text(), retryAfter: response.headers.get('retry-after') };
  }
  const auth = { Authorization: `Bearer ${TOKEN}` };
  const section = (length: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(length) } });
  const header = (length: number) => ({ type: 'header', text: { type: 'plain_text', text: 'x'.repeat(length) } });

  it.each([
    { name: 'JSON body', body: { channel: CHANNEL, text: 'hi' }, headers: auth, error: undefined },
    { name: 'missing token', body: { channel: CHANNEL, text: 'hi' }, headers: {}, error: 'not_authed' },
    {
      name: 'wrong token',
      body: { channel: CHANNEL, text: 'hi' },
      headers: { Authorization: 'Bearer x' },
      error: 'invalid_auth',
    },
    { name: 'unknown channel', body: { channel: 'C0OTHER', text: 'hi' }, headers: auth, error: 'channel_not_found' },
    { name: 'no channel', body: { text: 'hi' }, headers: auth, error: 'channel_not_found' },
    { name: 'no text', body: { channel: CHANNEL }, headers: auth, error: 'no_text' },
    {
      name: '51 blocks',
      body: { channel: CHANNEL, blocks: Array(51).fill(section(1)) },
      headers: auth,
      error: 'invalid_blocks',
    },
    {
      name: 'long section',
      body: { channel: CHANNEL, blocks: [section(3001)] },
      headers: auth,
      error: 'invalid_blocks',
    },
    { name: 'long header', body: { channel: CHANNEL, blocks: [header(151)] }, headers: auth, error: 'invalid_blocks' },
    {
      name: 'limits met',
      body: { channel: CHANNEL, blocks: [header(150), section(3000)] },
      headers: auth,
      error: undefined,
    },
  ])('chat.postMessage: $name', async ({ body, headers, error }) => {
    const { status, text } = await post('/api/chat.postMessage', body, headers);
    expect(status).toBe(200);
    expect(JSON.parse(text)).toMatchObject(error === undefined ? { ok: true, channel: CHANNEL } : { ok: false, error });
  });

  it.each([
    { name: 'bad JSON', body: '{nope', status: 400, text: 'invalid_payload' },
    { name: 'no text', body: { blocks: [] }, status: 400, text: 'no_text' },
    { name: 'too many blocks', body: { blocks: Array(51).fill(section(1)) }, status: 400, text: 'invalid_blocks' },
    { name: 'text only', body: { text: 'hi' }, status: 200, text: 'ok' },
  ])('webhook: $name', async ({ body, status, text }) => {
    const path = new URL(slack.webhookUrl).pathname;
    expect(await post(path, body)).toMatchObject({ status, text });
  });

  it('answers unknown paths with 404 no_service and failNext with Retry-After', async () => {
    expect(await post('/services/T1/B1/nope', { text: 'hi' })).toMatchObject({ status: 404, text: 'no_service' });
    slack.failNext(1, { status: 429, retryAfterSeconds: 7 });
    expect(await post(new URL(slack.webhookUrl).pathname, { text: 'hi' })).toMatchObject({
      status: 429,
      retryAfter: '7',
    });
    expect(slack.messages).toHaveLength(0);
  });
});

describe('one invocation against a Slack that accepts and never answers', () => {
  it.each([
    ['web-api', () => webApi()],
    ['webhook', () => webhook()],
  ])(
    '%s: tries once, keeps the rest without trying, and the next invocation delivers them in order',
    async (_mode, settings) => {
      const notifier = createSlackNotifier(settings(), { retries: 0, timeoutMs: 200, logger: capture().logger });
      slack.setHang(true);
      const invocation = notifier.session();
      const first = await invocation.notify({ ...changed, eventId: 'evt-1' });
      expect(first).toMatchObject({ posted: false, kept: true });
      const tried = slack.requestCount;
      expect(tried).toBe(1);
      // The breaker is open for the rest of this invocation: kept, not tried.
      expect(await invocation.notify({ ...changed, eventId: 'evt-2' })).toMatchObject({ posted: false, kept: true });
      expect(await invocation.notifyBatch([{ ...changed, eventId: 'evt-3' }])).toMatchObject({ kept: true });
      expect(slack.requestCount).toBe(tried);
      slack.setHang(false);
      expect(await notifier.session().notify({ ...changed, eventId: 'evt-4' })).toEqual({ posted: true });
      expect(slack.messages.map((m) => /evt-\d/.exec(m.text ?? '')?.[0])).toEqual(['evt-1', 'evt-2', 'evt-3', 'evt-4']);
    },
  );

  it('gives a post up by the deadline (plus one request timeout) and keeps it', async () => {
    const notifier = createSlackNotifier(webApi(), { retries: 5, timeoutMs: 150, logger: capture().logger });
    slack.setHang(true);
    const sent = await notifier.session(Deadline.in(0)).notify(changed);
    expect(sent).toMatchObject({ posted: false, kept: true });
    expect(sent.error).toMatch(/no answer from Slack/);
    // Given up during the first of its six attempts.
    expect(slack.requestCount).toBe(1);
  });
});
