import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { WebhookRejectedError } from '../../shared/errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/intake/webhook-verifier.ts';
import { logAndAnswer } from '../common/http-error.ts';
import type { PipelineLogger } from '../common/pipeline.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Function URLs and HTTP APIs base64-encode bodies they consider binary; the signature covers the decoded bytes. */
export function rawBody(event: HttpEvent): string | Uint8Array {
  if (event.body === undefined) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
}

export function assertPost(event: HttpEvent): void {
  if (event.requestContext.http.method.toUpperCase() !== 'POST') {
    throw new WebhookRejectedError('method_not_allowed', 405, `Use POST, not ${event.requestContext.http.method}.`);
  }
  const size =
    event.body === undefined
      ? 0
      : event.isBase64Encoded
        ? Math.floor((event.body.length * 3) / 4)
        : Buffer.byteLength(event.body);
  if (size > DEFAULT_MAX_BODY_BYTES) {
    throw new WebhookRejectedError(
      'payload_too_large',
      413,
      `The body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes.`,
    );
  }
}

/** Maps any error to the `{"error": {...}}` answer, logged once. */
export function errorResult(error: unknown, logger: PipelineLogger): HttpResult {
  const response = logAndAnswer(error, logger);
  return json(response.status, response.body);
}
