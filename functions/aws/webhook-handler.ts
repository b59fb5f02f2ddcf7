import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { IdentitySyncError, WebhookRejectedError } from '../../shared/errors.ts';
import { publishEvents } from './event-publisher.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { assertPost, errorResult, type HttpEvent, type HttpResult, json, rawBody } from './lambda-http.ts';

/**
 * Signed webhook intake (Function URL or HTTP API v2): verify the signature over the raw body, validate, and hand the
 * event to EventBridge. Nothing is planned or written here, so this function needs events:PutEvents and nothing else.
 */
export function createWebhookHandler(deps: HandlerDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        assertPost(event);
        const runtime = await deps.runtime();
        if (runtime.verifier === undefined || runtime.busName === undefined) {
          throw new WebhookRejectedError(
            'invalid_input',
            400,
            'The webhook is not enabled: configure webhook.secrets and the event bus.',
          );
        }
        const verified = runtime.verifier({ headers: event.headers, body: rawBody(event) });
        deps.logger.appendKeys({ webhookId: verified.id, deploymentId: verified.event.data.deploymentId });
        if (runtime.replays.isReplay(verified.id)) {
          deps.logger.warn('duplicate webhook-id acknowledged without publishing');
          return json(202, { id: verified.id, status: 'duplicate' });
        }
        await publishEvents(runtime.events, runtime.busName, [{ webhookId: verified.id, event: verified.event }]);
        runtime.replays.remember(verified.id);
        deps.logger.info('webhook accepted', { eventType: verified.event.type });
        return json(202, { id: verified.id, status: 'accepted' });
      } catch (error) {
        if (
          error instanceof IdentitySyncError &&
          !(error instanceof WebhookRejectedError) &&
          error.code === 'target_failed'
        ) {
          // EventBridge kept failing: 503 makes the sender retry with the same webhook-id.
          deps.logger.error('event bus unavailable', { reason: error.message });
          return json(503, {
            error: { code: 'unavailable', message: 'The event bus did not accept the event; retry later.' },
          });
        }
        return errorResult(error, deps.logger);
      }
    });
}
