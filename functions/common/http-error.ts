import { IdentitySyncError, WebhookRejectedError } from '../../shared/errors.ts';
import { AstroApiError } from '../../shared/intake/astro-api.ts';
import type { PipelineLogger } from './pipeline.ts';

export interface ErrorResponse {
  readonly status: number;
  readonly body: { error: { code: string; message: string } };
}

/** The one error shape every HTTP entry point answers with: `{"error": {"code", "message"}}`. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof WebhookRejectedError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  }
  if (error instanceof AstroApiError) {
    const status = error.retryable ? 503 : 502;
    return { status, body: { error: { code: error.retryable ? 'unavailable' : 'astro_api', message: error.message } } };
  }
  // A bad config or an unreadable secret is ours to fix, not the caller's: answer 500 and keep the details in the log.
  if (error instanceof IdentitySyncError && error.code !== 'invalid_config') {
    return { status: 400, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'Internal error; see the function logs.' } } };
}

/**
 * The error answer every runtime sends, logged once: a rejection is a warning with its code and reason; a 5xx is an
 * error with the stack (the answer itself stays generic, so nothing internal or secret reaches the caller).
 */
export function logAndAnswer(error: unknown, logger: PipelineLogger): ErrorResponse {
  const response = toErrorResponse(error);
  if (response.status >= 500) {
    logger.error('request failed', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  } else {
    logger.warn('request rejected', {
      status: response.status,
      code: response.body.error.code,
      reason: response.body.error.message,
    });
  }
  return response;
}
