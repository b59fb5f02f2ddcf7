import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { WebhookRejectedError } from '../../shared/errors.ts';
import { assertBearer, parseManualRequest } from '../../shared/manual-request.ts';
import { FAILURE_STATUSES } from '../../shared/outcome.ts';
import { toBatchItems } from '../common/batch-items.ts';
import { runPipeline } from '../common/pipeline.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { assertPost, errorResult, type HttpEvent, type HttpResult, json, rawBody } from './lambda-http.ts';

/**
 * Manual invocation: `POST` with `Authorization: Bearer <manual token>` and `{"deployment": {...}}` (or
 * `{"deploymentId": "..."}` with the Astro API configured), optionally `"dryRun": true`. Runs the reconciler now and
 * answers the per-target results: 200 when every target is granted or already up to date, 422 when a target was
 * denied or cannot take the grant safely, 502 when a cloud call failed.
 */
export function createManualHandler(deps: HandlerDeps) {
  return middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(deps.logger, { resetKeys: true }))
    .handler(async (event) => {
      try {
        assertPost(event);
        const runtime = await deps.runtime();
        if (runtime.manualToken === undefined) {
          throw new WebhookRejectedError('unauthorized', 401, 'Manual invocation is disabled: configure manual.token.');
        }
        // Authenticate before reading the body: an anonymous caller learns nothing about the schema.
        assertBearer(event.headers, runtime.manualToken);
        const body = rawBody(event);
        const request = parseManualRequest(typeof body === 'string' ? body : new TextDecoder().decode(body));
        const eventId = `manual-${randomUUID()}`;
        deps.logger.appendKeys({ eventId, deploymentId: request.deployment?.id ?? request.deploymentId });
        const deployment = request.deployment;
        const organizationId =
          deployment?.organizationId ?? request.organizationId ?? runtime.config.astro?.organizationId;
        if (organizationId === undefined) {
          throw new WebhookRejectedError(
            'invalid_input',
            400,
            'Send "organizationId" with "deploymentId", or configure astro.organizationId.',
          );
        }
        const { items, rejected } = await toBatchItems(
          [
            {
              webhookId: eventId,
              event: {
                type: request.type,
                timestamp: new Date().toISOString(),
                data: {
                  organizationId,
                  deploymentId: deployment?.id ?? request.deploymentId ?? '',
                  ...(deployment ? { deployment } : {}),
                },
              },
            },
          ],
          runtime.astro,
        );
        const [first] = rejected;
        if (first !== undefined) {
          if (first.retryable) {
            return json(503, { error: { code: 'unavailable', message: `Cannot process now: ${first.reason}.` } });
          }
          throw new WebhookRejectedError('invalid_input', 400, `Cannot process: ${first.reason}.`);
        }
        const reports = await runPipeline(items, {
          batch: { config: runtime.config, drivers: runtime.drivers, dryRun: request.dryRun },
          notifier: runtime.notifier,
          logger: deps.logger,
        });
        const results = reports.flatMap((report) => report.results);
        const status = results.some((r) => r.status === 'failed')
          ? 502
          : results.some((r) => FAILURE_STATUSES.has(r.status))
            ? 422
            : 200;
        return json(status, reports[0]);
      } catch (error) {
        return errorResult(error, deps.logger);
      }
    });
}
