import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestRejectedError, ValidationError } from '../../shared/errors.ts';
import { createIntake, type IntakeRequest } from '../../shared/intake/intake.ts';
import { ReplayGuard } from '../../shared/intake/replay-guard.ts';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';
import {
  createWebhookAuthenticator,
  DEFAULT_MAX_BODY_BYTES,
  normalizeHeaders,
} from '../../shared/intake/webhook-verifier.ts';
import { NAMESPACE, rawDeployment, thrown } from '../support/fixtures.ts';

const secret = (seed: string) => `whsec_${Buffer.from(seed.repeat(32).slice(0, 32)).toString('base64')}`;
const OLD = secret('old');
const NEW = secret('new');
const NOW = new Date('2025-06-01T12:00:00Z');
const EVENT = {
  type: 'deployment.created',
  timestamp: '2025-06-01T11:59:58Z',
  data: { organizationId: 'clx0organization0001', deploymentId: 'clx0deployment000001', deployment: rawDeployment() },
};
const BODY = JSON.stringify(EVENT);

function signed(body = BODY, options: { key?: string; at?: Date; id?: string } = {}) {
  const headers = signWebhook({
    secret: options.key ?? NEW,
    id: options.id ?? 'msg_2abc',
    timestamp: options.at ?? NOW,
    body,
  });
  return { headers, body };
}

type Request = Omit<IntakeRequest, 'method'>;

/** The intake's webhook route as a verifier: POST, no replay guard, the event or the rejection. */
function createWebhookVerifier(options: { secrets: readonly string[]; maxBodyBytes?: number }) {
  const intake = createIntake({ webhookSecrets: options.secrets, maxBodyBytes: options.maxBodyBytes });
  return (request: Request) => {
    const result = intake.webhook({ method: 'POST', ...request });
    if (result.duplicate) throw new Error('unexpected duplicate');
    return result;
  };
}

function rejection(
  request: { headers: Record<string, string | string[] | undefined>; body: string | Uint8Array },
  secrets = [NEW],
) {
  const error = thrown(() => createWebhookVerifier({ secrets })(request));
  expect(error).toBeInstanceOf(RequestRejectedError);
  return error as RequestRejectedError;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(NOW);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('intake webhook: accepted requests', () => {
  it('returns id, timestamp and the parsed event for a valid signature', () => {
    const verified = createWebhookVerifier({ secrets: [NEW] })(signed());
    expect(verified.id).toBe('msg_2abc');
    expect(verified.timestamp).toBe(NOW.getTime() / 1000);
    expect(verified.event.type).toBe('deployment.created');
    expect(verified.event.data.deployment?.namespace).toBe(NAMESPACE);
  });

  it.each([
    ['the old secret', OLD],
    ['the new secret', NEW],
  ])('accepts a body signed with %s during rotation', (_label, key) => {
    expect(createWebhookVerifier({ secrets: [OLD, NEW] })(signed(BODY, { key })).id).toBe('msg_2abc');
  });

  it('accepts several space-separated signatures when one matches', () => {
    const { headers } = signed();
    const other = new Webhook(OLD).sign('msg_2abc', NOW, BODY);
    headers['webhook-signature'] =
      `v1,AAAA ${other} v2,${headers['webhook-signature']?.slice(3)} ${headers['webhook-signature']}`;
    expect(createWebhookVerifier({ secrets: [NEW] })({ headers, body: BODY }).id).toBe('msg_2abc');
  });

  it.each([
    ['a Uint8Array body', (body: string) => new TextEncoder().encode(body)],
    ['a Buffer body', (body: string) => Buffer.from(body)],
  ])('accepts %s', (_label, encode) => {
    const { headers, body } = signed();
    expect(createWebhookVerifier({ secrets: [NEW] })({ headers, body: encode(body) }).event.type).toBe(
      'deployment.created',
    );
  });

  it.each(['application/json; charset=utf-8', 'Application/JSON'])(
    'accepts content-type %j, upper-case header names and repeated headers',
    (contentType) => {
      const { headers } = signed();
      const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v, 'ignored']]));
      expect(
        createWebhookVerifier({ secrets: [NEW] })({ headers: { ...upper, 'CONTENT-TYPE': [contentType] }, body: BODY })
          .id,
      ).toBe('msg_2abc');
    },
  );

  it('accepts timestamps up to five minutes either side', () => {
    const verify = createWebhookVerifier({ secrets: [NEW] });
    expect(verify(signed(BODY, { at: new Date(NOW.getTime() - 300_000) })).id).toBe('msg_2abc');
    expect(verify(signed(BODY, { at: new Date(NOW.getTime() + 300_000) })).id).toBe('msg_2abc');
  });
});

describe('intake webhook: rejected requests', () => {
  it.each([
    ['a tampered body', () => ({ ...signed(), body: BODY.replace('etl-prod', 'etl-prox') })],
    ['a wrong secret', () => signed(BODY, { key: secret('attacker') })],
    ['a rotated-out secret', () => signed(BODY, { key: OLD })],
    ['another webhook-id', () => ({ ...signed(), headers: { ...signed().headers, 'webhook-id': 'msg_other' } })],
    [
      'a non-v1 signature',
      () => ({
        ...signed(),
        headers: { ...signed().headers, 'webhook-signature': `v2,${signed().headers['webhook-signature']?.slice(3)}` },
      }),
    ],
  ])('401 for %s', (_label, request) => {
    const error = rejection(request());
    expect(error).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(error.message).toMatch(/matches none of the configured secrets/);
  });

  it.each([
    ['expired (301 s old)', -301_000],
    ['an hour old', -3_600_000],
    ['in the future (301 s)', 301_000],
  ])('401 for a timestamp %s', (_label, offset) => {
    const error = rejection(signed(BODY, { at: new Date(NOW.getTime() + offset) }), [OLD, NEW]);
    expect(error).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(error.message).toMatch(/webhook-timestamp/);
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('401 when %s is missing', (name) => {
    const { headers } = signed();
    const error = rejection({ headers: { ...headers, [name]: undefined }, body: BODY });
    expect(error).toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(error.message).toMatch(/Missing webhook-id/);
  });

  it.each(['1.5e9', '-1', 'now', '1234567890123'])('401 for webhook-timestamp %j', (timestamp) => {
    const { headers } = signed();
    expect(rejection({ headers: { ...headers, 'webhook-timestamp': timestamp }, body: BODY }).status).toBe(401);
  });

  it.each(['has space', 'x'.repeat(257), 'caf\u00e9'])('400 for webhook-id %j', (id) => {
    const error = rejection(signed(BODY, { id }));
    expect(error).toMatchObject({ status: 400, code: 'invalid_input' });
  });

  it('413 for a body over 256 KiB, before anything else', () => {
    const big = JSON.stringify({ ...EVENT, pad: 'x'.repeat(DEFAULT_MAX_BODY_BYTES) });
    const error = rejection({ ...signed(big), headers: { ...signed(big).headers, 'content-type': 'text/plain' } });
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(DEFAULT_MAX_BODY_BYTES).toBe(262_144);
  });

  it('counts bytes, not characters', () => {
    const body = '\u00e9'.repeat(600);
    const verify = createWebhookVerifier({ secrets: [NEW], maxBodyBytes: 1024 });
    expect(thrown(() => verify(signed(body)))).toMatchObject({ status: 413 });
    expect(thrown(() => verify(signed('\u00e9'.repeat(500))))).toMatchObject({ status: 400 });
  });

  it('413 when content-length declares more than the limit', () => {
    const { headers } = signed();
    const error = rejection({
      headers: { ...headers, 'content-length': String(DEFAULT_MAX_BODY_BYTES + 1) },
      body: BODY,
    });
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large' });
    expect(
      createWebhookVerifier({ secrets: [NEW] })({
        headers: { ...headers, 'content-length': String(BODY.length) },
        body: BODY,
      }).id,
    ).toBe('msg_2abc');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['form', 'application/x-www-form-urlencoded'],
    ['json-ish', 'application/jsonp'],
    ['missing', undefined],
  ])('415 for a %s content-type', (_label, contentType) => {
    const { headers } = signed();
    const error = rejection({ headers: { ...headers, 'content-type': contentType }, body: BODY });
    expect(error).toMatchObject({ status: 415, code: 'unsupported_media_type' });
  });

  it('400 for signed invalid JSON, 401 for unsigned invalid JSON', () => {
    expect(rejection(signed('{"type": '))).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(rejection({ ...signed(), body: '{"type": ' })).toMatchObject({ status: 401 });
  });

  it('401 for invalid UTF-8 from an unauthenticated sender, 400 once the signature matches', () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect(rejection({ headers: signed().headers, body: bytes })).toMatchObject({ status: 401 });
    // A sender that signed the bytes as decoded with replacement characters passes the signature, then fails UTF-8.
    const { headers } = signed(new TextDecoder().decode(bytes));
    const error = rejection({ headers, body: bytes });
    expect(error).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(error.message).toMatch(/UTF-8/);
  });

  it('checks the webhook-id format only after the signature', () => {
    const id = 'bad id with spaces';
    expect(rejection({ headers: { ...signed().headers, 'webhook-id': id }, body: BODY })).toMatchObject({
      status: 401,
    });
    expect(rejection(signed(BODY, { id }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/webhook-id/),
    });
  });

  it.each([
    ['data.deployment.namespace', { ...EVENT, data: { ...EVENT.data, deployment: rawDeployment({ namespace: '*' }) } }],
    ['data.deployment.id', { ...EVENT, data: { ...EVENT.data, deploymentId: 'clx0other' } }],
    ['type', { ...EVENT, type: 'deployment.exploded' }],
    ['timestamp', { ...EVENT, timestamp: 'yesterday' }],
  ])('400 naming %s for a schema violation', (path, event) => {
    const error = rejection(signed(JSON.stringify(event)));
    expect(error).toMatchObject({ status: 400, code: 'invalid_input' });
    expect(error.message.startsWith(`${path}: `)).toBe(true);
  });
});

describe('webhook authentication: configuration', () => {
  it('requires at least one secret', () => {
    const error = thrown(() => createWebhookAuthenticator([]));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_config', field: 'webhook.secrets' });
  });

  it.each(['whsec_', 'whsec_!!not base64!!'])('names a malformed secret %j by index without echoing it', (bad) => {
    const error = thrown(() => createWebhookAuthenticator([NEW, bad]));
    expect(error).toMatchObject({ code: 'invalid_config', field: 'webhook.secrets.1' });
    expect((error as Error).message).not.toContain('not base64');
  });

  it.each([
    [16, false],
    [23, false],
    [24, true],
    [32, true],
  ])('a secret of %i random bytes is accepted: %s (the spec asks for at least 24)', (bytes, accepted) => {
    const secret = `whsec_${Buffer.alloc(bytes, 7).toString('base64')}`;
    if (accepted) {
      expect(() => createWebhookAuthenticator([secret])).not.toThrow();
      return;
    }
    const error = thrown(() => createWebhookAuthenticator([NEW, secret]));
    expect(error).toMatchObject({ code: 'invalid_config', field: 'webhook.secrets.1' });
    expect((error as Error).message).toContain(`is ${bytes} bytes; use at least 24 random bytes`);
    expect((error as Error).message).not.toContain(secret.slice(6));
  });

  it('normalizeHeaders lower-cases names and keeps first values', () => {
    expect(normalizeHeaders({ 'Content-Type': ['a', 'b'], X: 'y', Missing: undefined, Empty: [] })).toEqual({
      'content-type': 'a',
      x: 'y',
    });
  });
});

describe('intake: one order for every route', () => {
  const TOKEN = 'manual-token-0123456789abcdef';
  const manualBody = JSON.stringify({ deployment: rawDeployment(), dryRun: true });
  const manualHeaders = { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` };
  const intake = (replays?: ReplayGuard) =>
    createIntake({ webhookSecrets: [NEW], manualToken: TOKEN, ...(replays ? { replays } : {}) });

  it('answers 405 for any other method before it looks at anything else', () => {
    const big = 'x'.repeat(DEFAULT_MAX_BODY_BYTES + 1);
    for (const route of ['webhook', 'manual'] as const) {
      const error = thrown(() => intake()[route]({ method: 'GET', headers: {}, body: big }));
      expect(error).toMatchObject({ status: 405, code: 'method_not_allowed' });
    }
  });

  it('answers 404 for a route the config leaves off, naming the setting', () => {
    const off = createIntake({});
    expect(thrown(() => off.webhook({ method: 'POST', ...signed() }))).toMatchObject({
      status: 404,
      message: expect.stringMatching(/webhook\.secrets/),
    });
    expect(thrown(() => off.manual({ method: 'POST', headers: manualHeaders, body: manualBody }))).toMatchObject({
      status: 404,
      message: expect.stringMatching(/manual\.token/),
    });
  });

  it('takes the size limit from the config for both routes', () => {
    const small = createIntake({ webhookSecrets: [NEW], manualToken: TOKEN, maxBodyBytes: 1024 });
    const body = JSON.stringify({ ...EVENT, pad: 'x'.repeat(1100) });
    expect(thrown(() => small.webhook({ method: 'POST', ...signed(body) }))).toMatchObject({ status: 413 });
    expect(thrown(() => small.manual({ method: 'POST', headers: manualHeaders, body }))).toMatchObject({
      status: 413,
      message: 'The body is larger than 1024 bytes.',
    });
  });

  it('says a missing Content-Type is missing', () => {
    const { headers } = signed();
    const error = thrown(() =>
      intake().webhook({ method: 'POST', headers: { ...headers, 'content-type': undefined }, body: BODY }),
    );
    expect(error).toMatchObject({ status: 415, message: 'Content-Type is missing; send application/json.' });
    expect(
      thrown(() =>
        intake().manual({ method: 'POST', headers: { ...manualHeaders, 'content-type': 'text/plain' }, body: '{}' }),
      ),
    ).toMatchObject({ status: 415, message: 'Content-Type must be application/json, not "text/plain".' });
  });

  it('checks the manual token before the body, and says an empty body is empty', () => {
    const wrong = { ...manualHeaders, authorization: 'Bearer nope' };
    expect(thrown(() => intake().manual({ method: 'POST', headers: wrong, body: 'not json' }))).toMatchObject({
      status: 401,
      code: 'unauthorized',
    });
    expect(thrown(() => intake().manual({ method: 'POST', headers: manualHeaders, body: '' }))).toMatchObject({
      status: 400,
      message: 'The body is empty; send a JSON object.',
    });
    expect(intake().manual({ method: 'POST', headers: manualHeaders, body: manualBody }).dryRun).toBe(true);
  });

  it('acknowledges a replayed webhook-id after the signature and before the body is parsed', () => {
    const replays = new ReplayGuard();
    const first = intake(replays).webhook({ method: 'POST', ...signed() });
    expect(first.duplicate).toBe(false);
    // Not yet handled: the same id is processed again (a failed attempt is retried by the sender).
    expect(intake(replays).webhook({ method: 'POST', ...signed() }).duplicate).toBe(false);
    intake(replays).accepted('msg_2abc');
    // Handled: even a body that would not parse is acknowledged as a duplicate, once it is signed.
    expect(intake(replays).webhook({ method: 'POST', ...signed('{"not": "an event"}') })).toEqual({
      duplicate: true,
      id: 'msg_2abc',
    });
    // An unsigned copy of a handled id is still a 401: the replay guard is behind authentication.
    expect(
      thrown(() => intake(replays).webhook({ method: 'POST', headers: signed().headers, body: '{"x": 1}' })),
    ).toMatchObject({ status: 401 });
  });
});
