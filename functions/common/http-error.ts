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
  if (error instanceof IdentitySyncError) {
    return { status: 400, body: { error: { code: error.code, message: error.message } } };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'Internal error; see the function logs.' } } };
}
