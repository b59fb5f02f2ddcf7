import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { refuseOtherMethods } from '../../shared/intake/intake.ts';
import { answering, type FlowResponse, synchronousFlow } from '../common/http-flows.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import { withInvocation } from './azure-logger.ts';
import type { AzureHandlerDeps } from './handler-deps.ts';
import { classifyArmError } from './msi-errors.ts';

export interface AzureHttpHandlers {
  /** `POST /api/webhook`: signed Standard Webhooks event, reconciled synchronously; answers the per-target result. */
  readonly webhook: HttpHandler;
  /** `POST /api/manual`: bearer token, `{"deployment": {...}, "dryRun": true}`; answers the per-target result. */
  readonly manual: HttpHandler;
}

/**
 * However long functionTimeout is, an HTTP trigger must answer within 230 s (the Azure Load Balancer's idle timeout;
 * Azure Functions docs, "Function app timeout duration").
 */
const AZURE_HTTP_FRONT_END_MS = 230_000;

function json(response: FlowResponse): HttpResponseInit {
  return { status: response.status, jsonBody: response.body, headers: { 'content-type': 'application/json' } };
}

/**
 * The bytes are taken with arrayBuffer(), not text(): text() decodes as the Fetch spec says and drops a leading
 * byte-order mark, so a signature over the bytes the sender sent would no longer match. The host has buffered the
 * request already; every check on it (method, size, media type, signature) is the common intake's.
 */
async function intakeRequest(request: HttpRequest) {
  const body = new Uint8Array(await request.arrayBuffer());
  return { method: request.method, headers: Object.fromEntries(request.headers), body };
}

function handler(name: 'webhook' | 'manual', deps: AzureHandlerDeps): HttpHandler {
  return (request: HttpRequest, context: InvocationContext) =>
    withInvocation(context, async () => {
      const started = Date.now();
      const logger = deps.logger.child({ function: name, invocationId: context.invocationId });
      const metrics = deps.metrics(logger);
      const response = await answering(logger, classifyArmError, async () => {
        refuseOtherMethods(request.method);
        const runtime = await deps.runtime();
        const input = await intakeRequest(request);
        // The front end answers 504 after 230 s, whatever the function timeout says.
        const timeoutMs = Math.min(
          runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.azure,
          AZURE_HTTP_FRONT_END_MS,
        );
        const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
        return synchronousFlow(name, runtime, input, logger, deadline, metrics);
      });
      metrics.flush();
      logger.info('request answered', { status: response.status });
      return json(response);
    });
}

/**
 * The HTTP trigger's two routes. The webhook verifies the signature over the raw bytes and reconciles before
 * answering (use the queue trigger for decoupled processing). The manual route checks the bearer token before it
 * parses the body.
 */
export function createAzureHttpHandlers(deps: AzureHandlerDeps): AzureHttpHandlers {
  return { webhook: handler('webhook', deps), manual: handler('manual', deps) };
}
