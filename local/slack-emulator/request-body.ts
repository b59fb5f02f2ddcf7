import type { IncomingMessage } from 'node:http';

/** Slack's own payload cap is far lower than this; the bound only keeps a runaway test from exhausting memory. */
const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError(`body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

type ParsedBody = { ok: true; fields: Record<string, unknown> } | { ok: false };

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function parseJsonObject(raw: string): ParsedBody {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return { ok: true, fields: value as Record<string, unknown> };
    }
  } catch {
    // Falls through to the refusal: the caller answers with Slack's error code.
  }
  return { ok: false };
}

/**
 * A Web API body. Real `@slack/web-api` WebClient sends `application/x-www-form-urlencoded` with every non-scalar
 * argument (blocks, attachments) JSON-stringified; other clients send `application/json`. Both are accepted, and a
 * form-encoded `blocks` string is decoded so the checks see the same shape either way.
 */
export function parseApiBody(contentType: string | undefined, raw: string): ParsedBody {
  const type = mediaType(contentType);
  if (type === 'application/json') return parseJsonObject(raw);
  const fields: Record<string, unknown> = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments', 'metadata']) {
    const value = fields[key];
    if (typeof value !== 'string') continue;
    try {
      fields[key] = JSON.parse(value);
    } catch {
      // Left as a string: the block checks then answer `invalid_blocks_format`, as Slack does.
    }
  }
  return { ok: true, fields };
}

/**
 * An incoming-webhook body: JSON (what `@slack/webhook` sends), or the legacy form with a `payload=<json>` field.
 */
export function parseWebhookBody(contentType: string | undefined, raw: string): ParsedBody {
  if (mediaType(contentType) === 'application/x-www-form-urlencoded') {
    const payload = new URLSearchParams(raw).get('payload');
    return payload === null ? { ok: false } : parseJsonObject(payload);
  }
  return parseJsonObject(raw);
}
