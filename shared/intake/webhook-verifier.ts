import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { ValidationError, WebhookRejectedError } from '../errors.ts';
import { parseJsonBody } from '../zod-error.ts';
import { type DeploymentEvent, deploymentEventSchema } from './deployment.ts';

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export interface WebhookRequest {
  readonly headers: HeaderBag;
  /** The body exactly as received; the signature covers these bytes, so it is never re-serialized. */
  readonly body: string | Uint8Array;
}

export interface VerifiedWebhook {
  /** `webhook-id`: the sender's idempotency key, also our correlation id. */
  readonly id: string;
  readonly timestamp: number;
  readonly event: DeploymentEvent;
}

export interface WebhookVerifierOptions {
  /** `whsec_<base64>` secrets; several during rotation, any one may sign. */
  readonly secrets: readonly string[];
  readonly maxBodyBytes?: number;
}

export type WebhookVerifier = (request: WebhookRequest) => VerifiedWebhook;

/** Lower-cases header names and keeps the first value of repeated headers. */
export function normalizeHeaders(headers: HeaderBag): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const first = typeof value === 'string' ? value : value?.[0];
    if (first !== undefined) out[name.toLowerCase()] = first;
  }
  return out;
}

/**
 * Standard Webhooks verification (standardwebhooks.com) in the order that keeps untrusted bytes away from the parser:
 * size (413), media type (415), signature and 5-minute timestamp tolerance (401), then JSON and schema (400).
 */
export function createWebhookVerifier(options: WebhookVerifierOptions): WebhookVerifier {
  if (options.secrets.length === 0) {
    throw new ValidationError('at least one webhook secret is required', {
      field: 'webhook.secrets',
      code: 'invalid_config',
    });
  }
  const verifiers = options.secrets.map((secret, index) => {
    try {
      return new Webhook(secret);
    } catch (cause) {
      throw new ValidationError('is not a Standard Webhooks secret (whsec_<base64>)', {
        field: `webhook.secrets.${index}`,
        code: 'invalid_config',
        cause,
      });
    }
  });
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const lenientDecoder = new TextDecoder('utf-8', { ignoreBOM: true });

  return (request) => {
    const headers = normalizeHeaders(request.headers);
    const declared = Number(headers['content-length']);
    const size = typeof request.body === 'string' ? Buffer.byteLength(request.body, 'utf8') : request.body.byteLength;
    if (size > maxBodyBytes || (Number.isFinite(declared) && declared > maxBodyBytes)) {
      throw new WebhookRejectedError('payload_too_large', 413, `The body is larger than ${maxBodyBytes} bytes.`);
    }
    const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/json') {
      throw new WebhookRejectedError(
        'unsupported_media_type',
        415,
        `Content-Type must be application/json, not ${mediaType ? JSON.stringify(mediaType) : 'missing'}.`,
      );
    }
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    if (!id || !timestamp || !headers['webhook-signature']) {
      throw new WebhookRejectedError(
        'invalid_signature',
        401,
        'Missing webhook-id, webhook-timestamp or webhook-signature header (Standard Webhooks).',
      );
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      throw new WebhookRejectedError('invalid_signature', 401, 'webhook-timestamp must be unix seconds.');
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
    if (!validUtf8) throw new WebhookRejectedError('invalid_input', 400, 'The body is not valid UTF-8.');
    if (id.length > 256 || !/^[\x21-\x7e]+$/.test(id)) {
      throw new WebhookRejectedError('invalid_input', 400, 'webhook-id must be 1-256 printable ASCII characters.');
    }
    return { id, timestamp: Number(timestamp), event: parseJsonBody(body, deploymentEventSchema) };
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
  throw new WebhookRejectedError(
    'invalid_signature',
    401,
    reason === 'timestamp'
      ? 'webhook-timestamp is more than 5 minutes from now; check the sender clock or resend.'
      : 'webhook-signature matches none of the configured secrets.',
    { cause: last },
  );
}
