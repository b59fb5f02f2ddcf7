import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { ValidationError } from '../../shared/errors.ts';
import { refuseOtherMethods } from '../../shared/intake/intake.ts';
import { intakeMetrics, record } from '../../shared/report/metrics.ts';
import { webhookFlow } from '../common/http-flows.ts';
import type { IntakeRuntime } from '../common/intake-runtime.ts';
import { invocationDeadline, stopSignal } from '../common/invocation-deadline.ts';
import { classifyAwsError } from './aws-errors.ts';
import type { AwsIntakeClients } from './aws-intake-adapter.ts';
import { publishEvents } from './event-publisher.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { errorAnswers, type HttpEvent, type HttpResult, intakeRequest, json } from './lambda-http.ts';

/**
 * Signed webhook intake (Function URL or HTTP API v2): the common intake, then PutEvents to the bus, answered 202.
 * Nothing is planned or written here, so this function needs events:PutEvents and nothing else; any failure to
 * publish answers 503 so the sender retries with the same webhook-id.
 */
export function createWebhookHandler(deps: HandlerDeps<IntakeRuntime<AwsIntakeClients>>) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(deps.logger.powertools, { resetKeys: true }))
    .use(logMetrics(deps.metrics.powertools, { throwOnEmptyMetrics: false }))
    .use(errorAnswers(deps.logger, classifyAwsError))
    .handler(async (event, context) => {
      refuseOtherMethods(event.requestContext.http.method);
      const runtime = await deps.runtime();
      const bus = runtime.settings.aws.eventBus;
      if (bus === undefined) {
        throw new ValidationError('ASTRO_IDENTITY_SYNC_EVENT_BUS is not set: name the bus the webhook publishes to', {
          code: 'invalid_config',
        });
      }
      // The SDK's retries of a slow bus must not outlast the function: past the deadline the sender gets a 503.
      const signal = stopSignal(invocationDeadline(context.getRemainingTimeInMillis(), runtime.settings));
      const response = await webhookFlow(
        runtime,
        intakeRequest(event),
        async (queued, logger) => {
          await publishEvents(runtime.clients.events, bus, [queued], { signal });
          record(deps.metrics, intakeMetrics({ accepted: 1 }));
          logger.info('webhook accepted', { eventType: queued.event.type });
          return { status: 202, body: { id: queued.webhookId, status: 'accepted' } };
        },
        deps.logger,
        deps.metrics,
      );
      return json(response);
    });
}
