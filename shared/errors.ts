/**
 * Typed errors of the core. Each carries a stable `code` that edges map to an HTTP status, a CLI exit code or a
 * Slack line; `message` is written for the person who must fix the input, never contains a secret.
 */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'invalid_signature'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'does_not_fit'
  | 'name_conflict'
  | 'target_failed'
  | 'write_conflict'
  | 'astro_api';

export class IdentitySyncError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Input that fails validation: a bad flag, a malformed document, a namespace outside the rules. */
export class ValidationError extends IdentitySyncError {
  /** Dotted path of the offending field (`data.deployment.namespace`, `--role-arn`), when one is known. */
  readonly field: string | undefined;

  constructor(
    message: string,
    options?: { field?: string; cause?: unknown; code?: 'invalid_input' | 'invalid_config' },
  ) {
    const field = options?.field;
    const prefixed = field && !message.startsWith(`${field}: `) ? `${field}: ${message}` : message;
    super(options?.code ?? 'invalid_input', prefixed, options);
    this.field = options?.field;
  }
}

/** Why a webhook request was refused, with the HTTP status an edge must answer. */
export class WebhookRejectedError extends IdentitySyncError {
  readonly status: 400 | 401 | 405 | 413 | 415;

  constructor(
    code:
      | 'invalid_input'
      | 'invalid_signature'
      | 'payload_too_large'
      | 'unsupported_media_type'
      | 'method_not_allowed'
      | 'unauthorized',
    status: 400 | 401 | 405 | 413 | 415,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = status;
  }
}

/** A plan that is valid but cannot be applied safely; nothing may be written. */
export class UnsafePlanError extends IdentitySyncError {
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
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super('target_failed', message, options);
    this.retryable = options.retryable;
  }
}

/** The write lost a race (stale etag, concurrent write): re-read, re-plan and try again. */
export class WriteConflictError extends IdentitySyncError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('write_conflict', message, options);
  }
}

export function isIdentitySyncError(error: unknown): error is IdentitySyncError {
  return error instanceof IdentitySyncError;
}
