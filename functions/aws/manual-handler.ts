import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { handleManual } from '../common/request-flows.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { assertPost, errorResult, type HttpEvent, type HttpResult, json, rawBody } from './lambda-http.ts';

/**
 * Manual invocation: `POST` with `Authorization: Bearer <manual token>` and `{"deployment": {...}}` (or
 * `{"deploymentId": "..."}` with the Astro API configured), optionally `"dryRun": true`. Runs the reconciler now and
 * answers the per-target results: 200 when every target is granted or already up to date, 422 when a target was
 * denied or cannot take the grant safely, 502 when a cloud call failed, 503 when the Astro API is unavailable.
 */
export function createManualHandler(deps: HandlerDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        assertPost(event);
        const runtime = await deps.runtime();
        const response = await handleManual(runtime, { headers: event.headers, body: rawBody(event) }, deps.logger);
        return json(response.status, response.body);
      } catch (error) {
        return errorResult(error, deps.logger);
      }
    });
}
