import type { IncomingMessage } from 'node:http';
import { unknownJsonField } from './errors.ts';
import { parseInt32 } from './policy-shape.ts';

const MAX_BODY_BYTES = 4 * 1024 * 1024;

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

export function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** The version the caller asks for: query `options.requestedPolicyVersion` or body `{options:{requestedPolicyVersion}}`. */
export function requestedVersion(query: URLSearchParams, body: unknown): number {
  const fromQuery = query.get('options.requestedPolicyVersion');
  if (fromQuery !== null) return parseInt32(fromQuery, 'options.requested_policy_version');
  if (typeof body !== 'object' || body === null) return 0;
  for (const name of Object.keys(body)) if (name !== 'options') throw unknownJsonField(name, undefined);
  const options: unknown = (body as { options?: unknown }).options;
  if (typeof options !== 'object' || options === null) return 0;
  for (const name of Object.keys(options))
    if (name !== 'requestedPolicyVersion') throw unknownJsonField(name, 'options');
  const version: unknown = (options as { requestedPolicyVersion?: unknown }).requestedPolicyVersion;
  return version === undefined || version === null ? 0 : parseInt32(version, 'options.requested_policy_version');
}

/** A setIamPolicy body whose policy carries no etag: IAM applies it unconditionally. */
export function isBlind(body: unknown): boolean {
  const policy: unknown = typeof body === 'object' && body !== null ? (body as { policy?: unknown }).policy : undefined;
  const etag: unknown = typeof policy === 'object' && policy !== null ? (policy as { etag?: unknown }).etag : undefined;
  return typeof etag !== 'string' || etag === '';
}
