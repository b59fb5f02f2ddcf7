import { randomUUID } from 'node:crypto';
import { WebhookRejectedError } from '../../shared/errors.ts';
import { assertBearer, parseManualRequest } from '../../shared/intake/manual-request.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import type { HeaderBag } from '../../shared/intake/webhook-verifier.ts';
import { type EventReport, FAILURE_STATUSES } from '../../shared/report/outcome.ts';
import { toBatchItems } from './batch-items.ts';
import type { FunctionRuntime } from './function-runtime.ts';
import { type PipelineLogger, runPipeline } from './pipeline.ts';

export interface FlowRequest {
  readonly headers: HeaderBag;
  readonly body: string | Uint8Array;
}

export interface FlowResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface QueuedResult {
  readonly reports: EventReport[];
  /** Events the platform should deliver again: the Astro API was down, or a target failed in a retryable way. */
  readonly retry: ReadonlySet<string>;
}

/**
 * The reconciler behind every queue (EventBridge/SQS, Pub/Sub, Storage queue): Deployments from the Astro API when
 * configured, one pipeline run for the batch, and the list of events worth retrying.
 */
export async function processQueued(
  runtime: FunctionRuntime,
  events: readonly QueuedEvent[],
  logger: PipelineLogger,
  options: { dryRun?: boolean } = {},
): Promise<QueuedResult & { rejected: Awaited<ReturnType<typeof toBatchItems>>['rejected'] }> {
  const { items, rejected } = await toBatchItems(events, runtime.astro);
  for (const r of rejected) logger.error('event rejected', { ...r });
  const reports = await runPipeline(items, {
    batch: { config: runtime.config, drivers: runtime.drivers, lanes: runtime.lanes, dryRun: options.dryRun === true },
    notifier: runtime.notifier,
    logger,
  });
  const retry = new Set([
    ...rejected.filter((r) => r.retryable).map((r) => r.eventId),
    ...reports
      .filter((report) => report.results.some((r) => r.status === 'failed' && r.retryable))
      .map((r) => r.eventId),
  ]);
  return { reports, retry, rejected };
}

/** 200 when every target is granted or already up to date, 422 when one was denied or unsafe, 502 when a cloud failed. */
export function statusForReport(report: EventReport): number {
  if (report.results.some((r) => r.status === 'failed')) return 502;
  if (report.results.some((r) => FAILURE_STATUSES.has(r.status))) return 422;
  return 200;
}

function single(result: Awaited<ReturnType<typeof processQueued>>): FlowResponse {
  const [rejected] = result.rejected;
  if (rejected !== undefined) {
    if (rejected.retryable)
      return {
        status: 503,
        body: { error: { code: 'unavailable', message: `Cannot process now: ${rejected.reason}.` } },
      };
    throw new WebhookRejectedError('invalid_input', 400, `Cannot process: ${rejected.reason}.`);
  }
  const [report] = result.reports;
  return report === undefined
    ? { status: 202, body: { status: 'ignored' } }
    : { status: statusForReport(report), body: report };
}

/**
 * Manual invocation: bearer token first (an anonymous caller learns nothing about the schema), then the body, then
 * the same pipeline, synchronously. `{"deploymentId"}` needs the Astro API.
 */
export async function handleManual(
  runtime: FunctionRuntime,
  request: FlowRequest,
  logger: PipelineLogger,
): Promise<FlowResponse> {
  if (runtime.manualToken === undefined) {
    throw new WebhookRejectedError('unauthorized', 401, 'Manual invocation is disabled: configure manual.token.');
  }
  assertBearer(request.headers, runtime.manualToken);
  const manual = parseManualRequest(
    typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body),
  );
  const { deployment } = manual;
  const organizationId = deployment?.organizationId ?? manual.organizationId ?? runtime.config.astro?.organizationId;
  if (organizationId === undefined) {
    throw new WebhookRejectedError(
      'invalid_input',
      400,
      'Send "organizationId" with "deploymentId", or configure astro.organizationId.',
    );
  }
  const event: QueuedEvent = {
    webhookId: `manual-${randomUUID()}`,
    event: {
      type: manual.type,
      timestamp: new Date().toISOString(),
      data: {
        organizationId,
        deploymentId: deployment?.id ?? manual.deploymentId ?? '',
        deployment,
      },
    },
  };
  return single(await processQueued(runtime, [event], logger, { dryRun: manual.dryRun }));
}

/** Signed webhook processed synchronously (GCP HTTP function, Azure HTTP trigger): verify, then reconcile now. */
export async function handleWebhookNow(
  runtime: FunctionRuntime,
  request: FlowRequest,
  logger: PipelineLogger,
): Promise<FlowResponse> {
  if (runtime.verifier === undefined) {
    throw new WebhookRejectedError('invalid_input', 400, 'The webhook is not enabled: configure webhook.secrets.');
  }
  const verified = runtime.verifier(request);
  if (runtime.replays.isReplay(verified.id)) {
    logger.warn('duplicate webhook-id acknowledged without processing', { webhookId: verified.id });
    return { status: 200, body: { id: verified.id, status: 'duplicate' } };
  }
  const response = single(await processQueued(runtime, [{ webhookId: verified.id, event: verified.event }], logger));
  if (response.status < 300) runtime.replays.remember(verified.id);
  return response;
}
