import { randomUUID } from 'node:crypto';
import type { Deadline } from '../../shared/deadline.ts';
import {
  type IdentitySyncError,
  isIdentitySyncError,
  RequestRejectedError,
  UnavailableError,
} from '../../shared/errors.ts';
import { duplicateAnswer, type IntakeRequest } from '../../shared/intake/intake.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import { intakeMetrics, type Metrics, noMetrics, record, rejectReason } from '../../shared/report/metrics.ts';
import { type EventReport, FAILURE_STATUSES } from '../../shared/report/outcome.ts';
import type { IntakeRuntime } from './intake-runtime.ts';
import type { Logger } from './logger.ts';
import { consumeQueued } from './queue-consumer.ts';
import type { Runtime } from './runtime.ts';

export interface FlowResponse {
  readonly status: number;
  readonly body: unknown;
}

export type Classify = (error: unknown) => IdentitySyncError | undefined;

/**
 * The one error answer of every HTTP edge, `{"error": {"code", "message"}}`, mapped by the error's own status and
 * retryability: a client mistake answers its 4xx, an outage 503 `unavailable` (retry with the same id), a cloud that
 * refused 502. A broken setup, or anything no adapter could explain, answers 500 with a generic message: the details
 * are in the log, never in the answer.
 */
function errorAnswer(error: unknown, classify: Classify = () => undefined): FlowResponse {
  const typed = isIdentitySyncError(error) ? error : classify(error);
  if (typed === undefined || !typed.exposed) {
    return { status: 500, body: { error: { code: 'internal', message: 'Internal error; see the function logs.' } } };
  }
  const code = typed.retryable ? 'unavailable' : typed.code;
  return { status: typed.status, body: { error: { code, message: typed.message } } };
}

/**
 * Runs one HTTP flow and answers whatever it throws, logged once: a rejection is a warning with its code and reason,
 * a 5xx an error with the stack. The one place the edges catch.
 */
export async function answering(
  logger: Logger,
  classify: Classify,
  flow: () => Promise<FlowResponse>,
): Promise<FlowResponse> {
  try {
    return await flow();
  } catch (error) {
    return logAndAnswer(error, logger, classify);
  }
}

/** The error answer, logged once (middy's onError on AWS and `answering` elsewhere both end here). */
export function logAndAnswer(error: unknown, logger: Logger, classify: Classify): FlowResponse {
  const response = errorAnswer(error, classify);
  const { code, message } = (response.body as { error: { code: string; message: string } }).error;
  if (response.status >= 500) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
    logger.error('request failed', {
      status: response.status,
      code,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      ...(cause === undefined ? {} : { cause: `${cause.name}: ${cause.message}` }),
    });
  } else {
    logger.warn('request rejected', { status: response.status, code, reason: message });
  }
  return response;
}

/** 200 when every target is granted or already up to date, 422 when one was denied or unsafe, 502 when a cloud failed. */
function statusForReport(report: EventReport): number {
  if (report.results.some((r) => r.status === 'failed')) return 502;
  if (report.results.some((r) => FAILURE_STATUSES.has(r.status))) return 422;
  return 200;
}

/** What to do with a verified webhook event: publish it (AWS) or reconcile it now (GCP, Azure). */
type Dispatch = (event: QueuedEvent, logger: Logger) => Promise<FlowResponse>;

/**
 * The signed webhook on every cloud: the intake (method, size, media type, signature, replay, parse), then the
 * cloud's dispatch. Only a dispatch that succeeded marks the id as handled, so a sender's retry of a failed one runs.
 * With a replay record (AWS) the id is claimed across instances before dispatching: a handled id gets the duplicate
 * answer from any instance, one being handled elsewhere 503 (retry with the same id), and a failed one is released.
 */
export async function webhookFlow(
  runtime: IntakeRuntime<unknown>,
  request: IntakeRequest,
  dispatch: Dispatch,
  logger: Logger,
  metrics: Metrics = noMetrics,
): Promise<FlowResponse> {
  const intake = passIntake(metrics, () => runtime.intake.webhook(request));
  if (intake.duplicate) {
    record(metrics, intakeMetrics({ rejected: ['duplicate'] }));
    logger.warn('duplicate webhook-id acknowledged without processing', { webhookId: intake.id });
    return duplicateAnswer(intake.id);
  }
  const scoped = logger.child({ webhookId: intake.id, deploymentId: intake.event.data.deploymentId });
  const claim = await claimId(runtime, intake.id, scoped);
  if (claim?.state === 'duplicate') {
    record(metrics, intakeMetrics({ rejected: ['duplicate'] }));
    runtime.intake.accepted(intake.id);
    scoped.warn('duplicate webhook-id acknowledged without processing (handled by another instance)');
    return duplicateAnswer(intake.id);
  }
  if (claim?.state === 'in-flight') {
    throw new UnavailableError(
      `webhook-id ${intake.id} is being handled by another instance right now: retry with the same webhook-id`,
    );
  }
  let response: FlowResponse;
  try {
    response = await dispatch({ webhookId: intake.id, event: intake.event }, scoped);
  } catch (error) {
    await claim?.release();
    throw error;
  }
  if (response.status >= 300) {
    await claim?.release();
    return response;
  }
  runtime.intake.accepted(intake.id);
  // Published either way: a replay record we could not write only means a later copy may be published again.
  await claim?.done().catch((error: unknown) => {
    scoped.warn('could not record the webhook-id as handled; a replay within the window may be processed again', {
      error: error instanceof Error ? error.message : String(error),
    });
  });
  return response;
}

/**
 * Counts the request as received and, when the intake refuses it, the refusal by its code. What happens to an event
 * after the intake (accepted or refused by the lookup) is counted where that is decided: the publisher on AWS, the
 * queue consumer elsewhere.
 */
function passIntake<T>(metrics: Metrics, check: () => T): T {
  record(metrics, intakeMetrics({ received: 1 }));
  try {
    return check();
  } catch (error) {
    const reason = rejectReason(error);
    if (reason !== undefined) record(metrics, intakeMetrics({ rejected: [reason] }));
    throw error;
  }
}

/**
 * The cross-instance claim, or none: the record failing (the table throttled or unreachable) must not stop intake,
 * because processing an event twice is safe (a converged target costs one read), so it is logged and skipped.
 */
async function claimId(runtime: IntakeRuntime<unknown>, id: string, logger: Logger) {
  try {
    return await runtime.replays?.claim(id);
  } catch (error) {
    logger.warn('the webhook replay record is unavailable; handling the event without it', {
      error: error instanceof Error ? error.message : String(error),
    });
    return undefined;
  }
}

/** Reconciles one event before answering: the per-target report, or the reason it was refused. */
export async function reconcileNow(
  runtime: Runtime<unknown>,
  event: QueuedEvent,
  logger: Logger,
  options: { dryRun?: boolean; deadline?: Deadline; metrics?: Metrics } = {},
): Promise<FlowResponse> {
  // The HTTP flow counted the request already.
  const { reports, rejected } = await consumeQueued(runtime, [{ messageId: event.webhookId, event }], logger, {
    ...options,
    received: false,
  });
  const [refused] = rejected;
  if (refused !== undefined) throw refused.error;
  const [report] = reports;
  return report === undefined
    ? { status: 202, body: { status: 'ignored' } }
    : { status: statusForReport(report), body: report };
}

/**
 * Manual invocation: the intake (method, size, media type, bearer token, body), then the same pipeline,
 * synchronously. `{"deploymentId"}` needs the Astro API.
 */
export async function manualFlow(
  runtime: Runtime<unknown>,
  request: IntakeRequest,
  logger: Logger,
  deadline?: Deadline,
  metrics: Metrics = noMetrics,
): Promise<FlowResponse> {
  const { manual, organizationId } = passIntake(metrics, () => {
    const manual = runtime.intake.manual(request);
    const organizationId =
      manual.deployment?.organizationId ?? manual.organizationId ?? runtime.config.astro?.organizationId;
    if (organizationId === undefined) {
      throw new RequestRejectedError(
        'invalid_input',
        'Send "organizationId" with "deploymentId", or configure astro.organizationId.',
      );
    }
    return { manual, organizationId };
  });
  const { deployment } = manual;
  const event: QueuedEvent = {
    webhookId: `manual-${randomUUID()}`,
    event: {
      type: manual.type,
      timestamp: new Date().toISOString(),
      data: { organizationId, deploymentId: deployment?.id ?? manual.deploymentId ?? '', deployment },
    },
  };
  const scoped = logger.child({ webhookId: event.webhookId, deploymentId: event.event.data.deploymentId });
  return reconcileNow(runtime, event, scoped, {
    dryRun: manual.dryRun,
    metrics,
    ...(deadline === undefined ? {} : { deadline }),
  });
}

/**
 * The HTTP routes where the function itself reconciles (GCP, Azure): the manual route, or the webhook reconciled
 * before answering. AWS's webhook publishes instead (webhookFlow with its own dispatch).
 */
export function synchronousFlow(
  route: 'manual' | 'webhook',
  runtime: Runtime<unknown>,
  request: IntakeRequest,
  logger: Logger,
  deadline: Deadline,
  metrics: Metrics,
): Promise<FlowResponse> {
  if (route === 'manual') return manualFlow(runtime, request, logger, deadline, metrics);
  const dispatch: Dispatch = (event, scoped) => reconcileNow(runtime, event, scoped, { deadline, metrics });
  return webhookFlow(runtime, request, dispatch, logger, metrics);
}
