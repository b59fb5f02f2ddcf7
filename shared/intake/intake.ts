import { RequestRejectedError } from '../errors.ts';
import { parseJsonBody } from '../zod-error.ts';
import { type DeploymentEvent, deploymentEventSchema } from './deployment.ts';
import { assertBearer, type ManualRequest, manualRequestSchema } from './manual-request.ts';
import type { ReplayGuard } from './replay-guard.ts';
import {
  createWebhookAuthenticator,
  DEFAULT_MAX_BODY_BYTES,
  type HeaderBag,
  normalizeHeaders,
} from './webhook-verifier.ts';

/**
 * The one intake for every cloud: what an HTTP request or a queue message must pass before anything is planned. For
 * HTTP the checks run once, in one order, with the same answers on AWS, GCP and Azure:
 *   method (405) -> route enabled (404) -> size (413) -> media type (415) -> authentication (401: signature or
 *   manual token) -> replay (a duplicate webhook-id is acknowledged, not processed) -> parse and validate (400).
 * Untrusted bytes reach the parser only after the sender is known, so an anonymous caller learns nothing but 401.
 */

export interface IntakeRequest {
  readonly method: string;
  readonly headers: HeaderBag;
  /** The body exactly as received (the signature covers these bytes). */
  readonly body: string | Uint8Array;
}

interface IntakeOptions {
  /** `webhook.maxBodyBytes`; both HTTP routes share it. */
  readonly maxBodyBytes?: number | undefined;
  /** `whsec_...` secrets; none means the webhook route is off. */
  readonly webhookSecrets?: readonly string[];
  /** The manual token; undefined means the manual route is off. */
  readonly manualToken?: string | undefined;
  /** Webhook ids already handled; without one, replays are processed again (idempotency is the safety net). */
  readonly replays?: ReplayGuard;
}

export type WebhookIntake =
  | { readonly duplicate: false; readonly id: string; readonly timestamp: number; readonly event: DeploymentEvent }
  /** Already handled on this instance within the tolerance window: answer success, do nothing. */
  | { readonly duplicate: true; readonly id: string };

export interface Intake {
  readonly maxBodyBytes: number;
  webhook(request: IntakeRequest): WebhookIntake;
  manual(request: IntakeRequest): ManualRequest;
  /** Records a webhook id once its event was handed on or processed, so a replay is acknowledged as a duplicate. */
  accepted(id: string): void;
}

/**
 * Queue messages (SQS, Pub/Sub, Storage queue) take the same module: a queued event out of its cloud's envelope, a
 * malformed message a reason and never a retry. It needs no config, so a consumer parses before its cold start.
 */
export { parseQueueMessage, parseScheduledTask } from './queue-envelopes.ts';

/** The duplicate answer, the same on every cloud: success, so the sender stops retrying, and nothing done twice. */
export function duplicateAnswer(id: string): { status: 200; body: { id: string; status: 'duplicate' } } {
  return { status: 200, body: { id, status: 'duplicate' } };
}

/**
 * The first check of every HTTP route, which needs no config: edges call it before the cold start, so a GET answers
 * 405 even while the function cannot start (and the intake checks it again, in its place in the order).
 */
export function refuseOtherMethods(method: string): void {
  if (method.toUpperCase() !== 'POST') {
    throw new RequestRejectedError('method_not_allowed', `Use POST, not ${method}.`);
  }
}

export function createIntake(options: IntakeOptions): Intake {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const authenticate =
    options.webhookSecrets && options.webhookSecrets.length > 0
      ? createWebhookAuthenticator(options.webhookSecrets)
      : undefined;

  /** Method, then whether the route is on at all: neither needs the body. */
  function route<T>(request: IntakeRequest, name: 'webhook' | 'manual', enabled: T | undefined): T {
    refuseOtherMethods(request.method);
    if (enabled === undefined) {
      const setting = name === 'webhook' ? 'webhook.secrets' : 'manual.token';
      throw new RequestRejectedError('not_found', `The ${name} route is off: configure ${setting} to enable it.`);
    }
    return enabled;
  }

  /** Size and media type: judged on what the request declares, before a byte of the body is interpreted. */
  function envelope(request: IntakeRequest): Record<string, string> {
    const headers = normalizeHeaders(request.headers);
    const declared = Number(headers['content-length']);
    const size = typeof request.body === 'string' ? Buffer.byteLength(request.body, 'utf8') : request.body.byteLength;
    if (size > maxBodyBytes || (Number.isFinite(declared) && declared > maxBodyBytes)) {
      throw new RequestRejectedError('payload_too_large', `The body is larger than ${maxBodyBytes} bytes.`);
    }
    const mediaType = headers['content-type']?.split(';')[0]?.trim().toLowerCase();
    if (mediaType === undefined || mediaType === '') {
      throw new RequestRejectedError('unsupported_media_type', 'Content-Type is missing; send application/json.');
    }
    if (mediaType !== 'application/json') {
      throw new RequestRejectedError(
        'unsupported_media_type',
        `Content-Type must be application/json, not ${JSON.stringify(mediaType)}.`,
      );
    }
    return headers;
  }

  return {
    maxBodyBytes,
    webhook(request) {
      const verify = route(request, 'webhook', authenticate);
      envelope(request);
      const authenticated = verify(request);
      if (options.replays?.isReplay(authenticated.id)) return { duplicate: true, id: authenticated.id };
      const event = parseJsonBody(authenticated.body, deploymentEventSchema);
      return { duplicate: false, id: authenticated.id, timestamp: authenticated.timestamp, event };
    },
    manual(request) {
      const token = route(request, 'manual', options.manualToken);
      assertBearer(envelope(request), token);
      const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
      return parseJsonBody(text, manualRequestSchema);
    },
    accepted(id) {
      options.replays?.remember(id);
    },
  };
}
