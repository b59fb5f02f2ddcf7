import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { refuseOtherMethods } from '../../shared/intake/intake.ts';
import { manualFlow } from '../common/http-flows.ts';
import { invocationDeadline } from '../common/invocation-deadline.ts';
import type { Runtime } from '../common/runtime.ts';
import type { AwsClients } from './aws-adapter.ts';
import { classifyAwsError } from './aws-errors.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { errorAnswers, type HttpEvent, type HttpResult, intakeRequest, json } from './lambda-http.ts';

/**
 * Manual invocation: `POST` with `Authorization: Bearer <manual token>` and `{"deployment": {...}}` (or
 * `{"deploymentId": "..."}` with the Astro API configured), optionally `"dryRun": true`. Runs the reconciler now and
 * answers the per-target results: 200 when every target is granted or already up to date, 422 when a target was
 * denied or cannot take the grant safely, 502 when a cloud call failed, 503 when the Astro API is unavailable.
 */
export function createManualHandler(deps: HandlerDeps<Runtime<AwsClients>>) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(deps.logger.powertools, { resetKeys: true }))
    .use(logMetrics(deps.metrics.powertools, { throwOnEmptyMetrics: false }))
    .use(errorAnswers(deps.logger, classifyAwsError))
    .handler(async (event, context) => {
      refuseOtherMethods(event.requestContext.http.method);
      const runtime = await deps.runtime();
      const deadline = invocationDeadline(context.getRemainingTimeInMillis(), runtime.settings);
      return json(await manualFlow(runtime, intakeRequest(event), deps.logger, deadline, deps.metrics));
    });
}
