import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IntakeRequest } from '../../shared/intake/intake.ts';
import { type Classify, type FlowResponse, logAndAnswer } from '../common/http-flows.ts';
import type { Logger } from '../common/logger.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(response: FlowResponse): HttpResult {
  return {
    statusCode: response.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(response.body),
  };
}

/**
 * A Function URL or HTTP API (payload 2.0) request as the intake takes it. Both base64-encode bodies they consider
 * binary; the signature covers the decoded bytes.
 */
export function intakeRequest(event: HttpEvent): IntakeRequest {
  const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
  return { method: event.requestContext.http.method, headers: event.headers, body };
}

/** middy's onError for the HTTP functions: whatever a handler throws becomes the one error answer, logged once. */
export function errorAnswers(logger: Logger, classify: Classify): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: async (request) => {
      request.response = json(logAndAnswer(request.error, logger, classify));
    },
  };
}
