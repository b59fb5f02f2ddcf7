import { AstroApiError } from '../../shared/astro-api.ts';
import { IdentitySyncError, WebhookRejectedError } from '../../shared/errors.ts';

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
