/**
 * Typed errors of the core: the one error contract every edge maps by. Each error carries a stable `code`, the HTTP
 * `status` an edge answers with, and `retryable`: whether the same request may succeed later unchanged (so a queue
 * should deliver it again and a sender should retry it with the same id). `message` is written for the person who
 * must fix the input and never contains a secret.
 *
 * The rule behind the statuses: a client mistake is a 4xx and never retryable; a cloud, bus or API outage is a 5xx
 * and retryable; our own broken setup (config, secrets) is a 500 that is not retryable.
 */
type ErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'invalid_signature'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'not_found'
  | 'does_not_fit'
  | 'name_conflict'
  | 'target_failed'
  | 'write_conflict'
  | 'astro_api'
  | 'unavailable';

const CLIENT_STATUS: Partial<Record<ErrorCode, number>> = {
  invalid_input: 400,
  invalid_signature: 401,
  unauthorized: 401,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  unsupported_media_type: 415,
  does_not_fit: 422,
  name_conflict: 422,
};

interface ErrorOptions {
  readonly cause?: unknown;
  /** Default: false for client mistakes and setup errors; outages pass true. */
  readonly retryable?: boolean;
}

/** The status for a code: the client table, else 503 when retrying may help and 502/500 when it will not. */
function statusOf(code: ErrorCode, retryable: boolean): number {
  const client = CLIENT_STATUS[code];
  if (client !== undefined) return client;
  if (retryable) return 503;
  return code === 'invalid_config' ? 500 : 502;
}

export class IdentitySyncError extends Error {
  // Each class names itself: the AWS bundles are minified without keepNames, so `new.target.name` would be mangled.
  override name = 'IdentitySyncError';
  readonly code: ErrorCode;
  /** What an HTTP edge answers: 4xx for a client mistake, 5xx for anything on our or a cloud's side. */
  readonly status: number;
  /** The same request may succeed later unchanged: deliver it again, or answer so the sender retries. */
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // A client mistake cannot heal by itself, whatever the caller says.
    this.retryable = CLIENT_STATUS[code] === undefined && options.retryable === true;
    this.status = statusOf(code, this.retryable);
  }

  /** Whether `message` may be shown to a caller; a broken setup is ours to read in the logs, not theirs. */
  get exposed(): boolean {
    return this.code !== 'invalid_config';
  }
}

/** Input that fails validation: a bad flag, a malformed document, a namespace outside the rules; or a bad config. */
export class ValidationError extends IdentitySyncError {
  override name = 'ValidationError';
  /** Dotted path of the offending field (`data.deployment.namespace`, `--role-arn`), when one is known. */
  readonly field: string | undefined;

  constructor(
    message: string,
    options?: { field?: string; cause?: unknown; code?: 'invalid_input' | 'invalid_config' },
  ) {
    const field = options?.field;
    const prefixed = field && !message.startsWith(`${field}: `) ? `${field}: ${message}` : message;
    super(options?.code ?? 'invalid_input', prefixed, { cause: options?.cause });
    this.field = options?.field;
  }
}

/**
 * An HTTP request refused before anything was done with it (method, size, media type, signature, token, body): one
 * class for the webhook and the manual route alike, with the status taken from the code.
 */
export class RequestRejectedError extends IdentitySyncError {
  override name = 'RequestRejectedError';
  constructor(
    code:
      | 'invalid_input'
      | 'invalid_signature'
      | 'payload_too_large'
      | 'unsupported_media_type'
      | 'method_not_allowed'
      | 'unauthorized'
      | 'not_found',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A plan that is valid but cannot be applied safely; nothing may be written. */
export class UnsafePlanError extends IdentitySyncError {
  override name = 'UnsafePlanError';
  /** What a person can do about it, one sentence each. */
  readonly remedies: readonly string[];
  /** The problem alone, without the remedies that `message` appends. */
  readonly summary: string;

  constructor(code: 'does_not_fit' | 'name_conflict', message: string, remedies: readonly string[]) {
    super(code, remedies.length > 0 ? `${message} Remedies: ${remedies.join(' ')}` : message);
    this.remedies = remedies;
    this.summary = message;
  }
}

/** The grant does not fit the target's limit (trust-policy characters, GCP members, Azure credentials). */
export class DoesNotFitError extends UnsafePlanError {
  override name = 'DoesNotFitError';
  readonly size: number;
  readonly limit: number;

  constructor(message: string, details: { size: number; limit: number; remedies: readonly string[] }) {
    super('does_not_fit', message, details.remedies);
    this.size = details.size;
    this.limit = details.limit;
  }
}

/** An Azure credential name this tool would use already belongs to another issuer/subject. */
export class NameConflictError extends UnsafePlanError {
  override name = 'NameConflictError';
  readonly names: readonly string[];

  constructor(message: string, names: readonly string[], remedies: readonly string[]) {
    super('name_conflict', message, remedies);
    this.names = names;
  }
}

/**
 * A cloud call failed in a way the adapter understood: `message` says what a person should fix (a missing role, a
 * permission the function lacks); `retryable` says whether the same call may succeed later (throttling, 5xx).
 */
export class TargetError extends IdentitySyncError {
  override name = 'TargetError';
  /** Steps a person can take (an exact command), shown under the reason in Slack. */
  readonly remedies: readonly string[] | undefined;

  constructor(message: string, options: { retryable: boolean; cause?: unknown; remedies?: readonly string[] }) {
    const { remedies, ...rest } = options;
    super('target_failed', message, rest);
    this.remedies = remedies;
  }
}

/** The write lost a race (stale etag, concurrent write): re-read, re-plan and try again. */
export class WriteConflictError extends IdentitySyncError {
  override name = 'WriteConflictError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('write_conflict', message, { ...options, retryable: true });
  }
}

/**
 * The cloud did not take a whole-document write (throttled, 5xx, no answer) and it may or may not have landed: never
 * re-send the same document (the SDK must not retry it), re-read and re-plan like after a lost race. A few in a row
 * end the event as retryable, so the queue delivers it again later.
 */
export class WriteRefusedError extends WriteConflictError {
  override name = 'WriteRefusedError';
}

/**
 * The target's lease changed hands before a write (it was just taken, or it expired or was stolen since): the document
 * was read without holding it, so nothing is written; re-read and re-plan now, under the lease.
 */
export class LeaseChangedError extends WriteConflictError {
  override name = 'LeaseChangedError';
}

/**
 * A service we depend on did not take the request (the event bus, a queue, the Astro API): nothing was lost, and the
 * same request with the same id should be sent again later.
 */
export class UnavailableError extends IdentitySyncError {
  override name = 'UnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, { ...options, retryable: true });
  }
}

/**
 * The invocation ran out of time before this work could start or finish (the platform would have killed it): nothing
 * is wrong with the event, so it is handed back to the queue and done on the next delivery.
 */
export class OutOfTimeError extends IdentitySyncError {
  override name = 'OutOfTimeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, { ...options, retryable: true });
  }
}

/**
 * "Retry this later": thrown by a queue consumer so the platform delivers the message again (SQS visibility
 * timeout, Pub/Sub redelivery, Storage queue dequeue count) and finally dead-letters it. The one name for it on
 * every cloud.
 */
export class RetryLaterError extends IdentitySyncError {
  override name = 'RetryLaterError';
  /** The ids of the messages that should come back. */
  readonly ids: readonly string[];

  constructor(message: string, ids: readonly string[], options?: { cause?: unknown }) {
    super('unavailable', message, { ...options, retryable: true });
    this.ids = ids;
  }
}

export function isIdentitySyncError(error: unknown): error is IdentitySyncError {
  return error instanceof IdentitySyncError;
}

/** Any thrown value as an IdentitySyncError; what no adapter recognised is an unexpected fault, retried. */
export function asIdentitySyncError(error: unknown): IdentitySyncError {
  if (error instanceof IdentitySyncError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new IdentitySyncError('unavailable', `unexpected error: ${message}`, { cause: error, retryable: true });
}
