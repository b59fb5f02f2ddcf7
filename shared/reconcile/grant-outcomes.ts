import { asIdentitySyncError, TargetError, UnsafePlanError } from '../errors.ts';
import type { TargetUsage } from '../report/outcome.ts';
import type { Blocked, GrantOutcome, GrantRequest } from './reconcile-target.ts';

/** How reconcileTarget turns what happened to a request into its outcome: settled, failed, with findings and use. */

export function withUsage(
  outcomes: Map<string, GrantOutcome>,
  before: TargetUsage | undefined,
  after: TargetUsage | undefined,
): Map<string, GrantOutcome> {
  if (before === undefined && after === undefined) return outcomes;
  for (const [key, outcome] of outcomes) {
    outcomes.set(key, {
      ...outcome,
      ...(after === undefined ? {} : { usage: after }),
      ...(before === undefined ? {} : { usageBefore: before }),
    });
  }
  return outcomes;
}

/** A request that needs no (more) writes: what it wrote in earlier rounds, and what the target already had. */
export function settled(request: GrantRequest, written: readonly string[], present: readonly string[]): GrantOutcome {
  if (request.action === 'revoke') {
    return { status: written.length > 0 ? 'revoked' : 'unchanged', added: [], removed: written, present: [] };
  }
  const already = present.filter((item) => !written.includes(item));
  return { status: written.length > 0 ? 'granted' : 'unchanged', added: written, present: already };
}

/**
 * A grant some of whose entries the target refuses ends `blocked`, whatever was written for the others; warnings join
 * the notes. A failure stays a failure: its reason is what must be fixed first.
 */
export interface Findings {
  readonly blocked: Blocked | undefined;
  readonly warnings: readonly string[] | undefined;
}

export function withFindings(outcome: GrantOutcome, found: Findings | undefined): GrantOutcome {
  const warnings = found?.warnings ?? [];
  const notes = [...new Set([...(outcome.notes ?? []), ...warnings])];
  const noted = notes.length === 0 ? outcome : { ...outcome, notes };
  const blocked = found?.blocked;
  if (blocked === undefined || blocked.entries.length === 0) return noted;
  if (!['granted', 'unchanged', 'planned'].includes(noted.status)) return noted;
  return { ...noted, status: 'blocked', blocked: blocked.entries, reason: blocked.reason, remedies: blocked.remedies };
}

/** Requests in planning order, the members of a group together (a request without a group is its own). */
export function groupsOf(requests: readonly GrantRequest[]): GrantRequest[][] {
  const groups = new Map<string, GrantRequest[]>();
  for (const request of requests) {
    const key = request.group ?? request.key;
    groups.set(key, [...(groups.get(key) ?? []), request]);
  }
  return [...groups.values()];
}

export function failure(
  error: unknown,
  request: GrantRequest,
  done: readonly string[],
  cause: GrantRequest = request,
): GrantOutcome {
  const entries = request.action === 'revoke' ? { added: [], removed: done } : { added: done };
  // A member refused because another part of its group did not fit: same status, and says which part.
  const because =
    cause === request
      ? ''
      : ` (${cause.dr ? 'the disaster-recovery cluster' : 'the primary cluster'} could not be granted; a Deployment's grant on a target is all or nothing)`;
  if (error instanceof UnsafePlanError) {
    return {
      status: error.code === 'does_not_fit' ? 'does-not-fit' : 'conflict',
      ...entries,
      reason: `${error.summary}${because}`,
      remedies: error.remedies,
    };
  }
  const typed = asIdentitySyncError(error);
  const remedies = typed instanceof TargetError && typed.remedies !== undefined ? { remedies: typed.remedies } : {};
  return {
    status: 'failed',
    ...entries,
    reason: `${typed.message}${because}`,
    retryable: typed.retryable,
    ...remedies,
  };
}
