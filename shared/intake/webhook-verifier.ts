import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { RequestRejectedError, ValidationError } from '../errors.ts';

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

interface WebhookRequest {
  readonly headers: HeaderBag;
  /** The body exactly as received; the signature covers these bytes, so it is never re-serialized. */
  readonly body: string | Uint8Array;
}

/** A request whose Standard Webhooks signature matched one of the secrets; its body is not parsed yet. */
interface AuthenticatedWebhook {
  /** `webhook-id`: the sender's idempotency key, also our correlation id. */
  readonly id: string;
  readonly timestamp: number;
  /** The body as UTF-8 text, exactly the bytes that were signed. */
  readonly body: string;
}

type WebhookAuthenticator = (request: WebhookRequest) => AuthenticatedWebhook;

/** Lower-cases header names and keeps the first value of repeated headers. */
export function normalizeHeaders(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = typeof value === 'string' ? value : value?.[0];
    if (first !== undefined) out[name.toLowerCase()] = first;
  }
  return out;
}

/** Standard Webhooks: secrets "SHOULD be between 24 bytes and 64 bytes" of random data. */
const MIN_SECRET_BYTES = 24;

/**
 * Standard Webhooks authentication (standardwebhooks.com): the three headers, the timestamp format, the signature
 * with a 5-minute tolerance (401), then what can only be judged once the sender is known: UTF-8 and the id format
 * (400). Size and media type are checked before this, the replay guard and the parser after (see intake.ts).
 */
export function createWebhookAuthenticator(secrets: readonly string[]): WebhookAuthenticator {
  if (secrets.length === 0) {
    throw new ValidationError('at least one webhook secret is required', {
      field: 'webhook.secrets',
      code: 'invalid_config',
    });
  }
  const verifiers = secrets.map((secret, index) => {
    const field = `webhook.secrets.${index}`;
    let verifier: Webhook;
    try {
      verifier = new Webhook(secret);
    } catch (cause) {
      throw new ValidationError('is not a Standard Webhooks secret (whsec_<base64>)', {
        field,
        code: 'invalid_config',
        cause,
      });
    }
    // The spec asks for 24 to 64 random bytes; a short key (a password typed as base64) can be guessed offline from
    // one signed request. The length says nothing of the secret itself, so it is safe to report.
    const bytes = Buffer.from(secret.replace(/^whsec_/, ''), 'base64').length;
    if (bytes < MIN_SECRET_BYTES) {
      throw new ValidationError(
        `is ${bytes} bytes; use at least ${MIN_SECRET_BYTES} random bytes, e.g. "whsec_$(openssl rand -base64 32)"`,
        { field, code: 'invalid_config' },
      );
    }
    return verifier;
  });
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

  return (request) => {
    const headers = normalizeHeaders(request.headers);
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    if (!id || !timestamp || !headers['webhook-signature']) {
      throw new RequestRejectedError(
        'invalid_signature',
        'Missing webhook-id, webhook-timestamp or webhook-signature header (Standard Webhooks).',
      );
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      throw new RequestRejectedError('invalid_signature', 'webhook-timestamp must be unix seconds.');
    }
    // Authenticate before judging anything else about the request, so an anonymous caller only ever learns "401".
    // Bytes that are not UTF-8 cannot match the sender's signature, so they fail here too.
    let body: string;
    let validUtf8 = true;
    try {
      body = typeof request.body === 'string' ? request.body : decoder.decode(request.body);
    } catch {
      validUtf8 = false;
      body = lenientDecoder.decode(request.body as Uint8Array);
    }
    verifySignature(verifiers, body, headers);
    if (!validUtf8) throw new RequestRejectedError('invalid_input', 'The body is not valid UTF-8.');
    if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id)) {
      throw new RequestRejectedError('invalid_input', 'webhook-id must be 1-256 printable ASCII characters.');
    }
    return { id, timestamp: Number(timestamp), body };
  };
}

function verifySignature(verifiers: readonly Webhook[], body: string, headers: Record<string, string>): void {
  let last: unknown;
  for (const verifier of verifiers) {
    try {
      verifier.verify(body, headers, { jsonParse: false });
      return;
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      last = error;
      // A timestamp outside the tolerance fails the same way for every secret.
      if (/timestamp/i.test(error.message)) break;
    }
  }
  const reason = last instanceof Error && /timestamp/i.test(last.message) ? 'timestamp' : 'signature';
  throw new RequestRejectedError(
    'invalid_signature',
    reason === 'timestamp'
      ? 'webhook-timestamp is more than 5 minutes from now; check the sender clock or resend.'
      : 'webhook-signature matches none of the configured secrets.',
    { cause: last },
  );
}
