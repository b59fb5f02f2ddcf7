import { Deadline } from '../../shared/deadline.ts';
import type { Settings } from './env-settings.ts';

/**
 * Where the runtime does not say how long an invocation may run, the platform's defaults: a Cloud Functions (2nd gen)
 * timeout of 60 s, and the functionTimeout of our host.json on Azure. Terraform sets the real values
 * (ASTRO_IDENTITY_SYNC_FUNCTION_TIMEOUT_S).
 */
export const DEFAULT_FUNCTION_TIMEOUT_MS = { gcp: 60_000, azure: 600_000 } as const;

/**
 * The deadline for an invocation's work, from the time the platform leaves it: minus room to report to Slack and to
 * answer (one request timeout and a second, or a fifth of the budget when that is shorter), so work that cannot
 * finish is handed back for retry before the platform kills the invocation.
 */
export function invocationDeadline(remainingMs: number, settings: Settings, now: () => number = Date.now): Deadline {
  const reserve = Math.round(Math.min(remainingMs / 5, settings.timeouts.requestMs + 1_000));
  return Deadline.in(remainingMs, now).earlier(reserve);
}

/** Aborted when the deadline passes; undefined for a deadline that never does. */
export function stopSignal(deadline: Deadline | undefined): AbortSignal | undefined {
  if (deadline === undefined || !Number.isFinite(deadline.at)) return undefined;
  return AbortSignal.timeout(Math.max(1, Math.ceil(deadline.remainingMs())));
}
