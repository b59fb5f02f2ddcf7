import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { WebhookRejectedError } from '../../shared/errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/intake/webhook-verifier.ts';
import { logAndAnswer } from '../common/http-error.ts';
import type { PipelineLogger } from '../common/pipeline.ts';
import { type FlowRequest, type FlowResponse, handleManual, handleWebhookNow } from '../common/request-flows.ts';
import { contextLogger, withInvocationLogger } from './azure-logger.ts';
import type { AzureRuntime } from './azure-runtime.ts';
import type { AzureHandlerDeps } from './handler-deps.ts';

export interface AzureHttpHandlers {
  /** `POST /api/webhook`: signed Standard Webhooks event, reconciled synchronously; answers the per-target result. */
  readonly webhook: HttpHandler;
  /** `POST /api/manual`: bearer token, `{"deployment": {...}, "dryRun": true}`; answers the per-target result. */
  readonly manual: HttpHandler;
}

type Flow = (runtime: AzureRuntime, request: FlowRequest, logger: PipelineLogger) => Promise<FlowResponse>;

export function json(status: number, body: unknown): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json' } };
}

/**
 * Method and size first, before the body is parsed or any secret is used. The bytes are taken with arrayBuffer(), not
 * text(): text() decodes as the Fetch spec says and drops a leading byte-order mark, so a signature over the bytes the
 * sender sent would no longer match. Nothing is re-serialized.
 */
export async function readRawBody(request: HttpRequest): Promise<Uint8Array> {
  if (request.method.toUpperCase() !== 'POST') {
    throw new WebhookRejectedError('method_not_allowed', 405, `Use POST, not ${request.method}.`);
  }
  const tooLarge = () =>
    new WebhookRejectedError('payload_too_large', 413, `The body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes.`);
  if (Number(request.headers.get('content-length')) > DEFAULT_MAX_BODY_BYTES) throw tooLarge();
  const body = new Uint8Array(await request.arrayBuffer());
  if (body.byteLength > DEFAULT_MAX_BODY_BYTES) throw tooLarge();
  return body;
}

/** Rejections are warnings; anything answered with 5xx is an error with its stack (never a secret: see toErrorResponse). */
function errorResult(error: unknown, logger: PipelineLogger): HttpResponseInit {
  const response = logAndAnswer(error, logger);
  return json(response.status, response.body);
}

function handler(name: string, deps: AzureHandlerDeps, flow: Flow): HttpHandler {
  return (request: HttpRequest, context: InvocationContext) => {
    // The webhook-id is unverified until the signature is checked, but it is only a correlation key here, and
    // JSON-encoding the log line keeps it inert.
    const webhookId = request.headers.get('webhook-id')?.slice(0, 256);
    const logger = contextLogger(context, {
      function: name,
      invocationId: context.invocationId,
      ...(webhookId ? { webhookId } : {}),
    });
    return withInvocationLogger(logger, async () => {
      try {
        const body = await readRawBody(request);
        const runtime = await deps.runtime();
        const headers = Object.fromEntries(request.headers);
        const response = await flow(runtime, { headers, body }, logger);
        logger.info('request answered', { status: response.status });
        return json(response.status, response.body);
      } catch (error) {
        return errorResult(error, logger);
      }
    });
  };
}

/**
 * The HTTP trigger's two routes. The webhook verifies the signature over the raw bytes and reconciles before
 * answering (Azure has no event bus between them here; use the queue trigger for decoupled processing). The manual
 * route checks the bearer token before reading the body.
 */
export function createAzureHttpHandlers(deps: AzureHandlerDeps): AzureHttpHandlers {
  return {
    webhook: handler('webhook', deps, handleWebhookNow),
    manual: handler('manual', deps, handleManual),
  };
}
