import { asIdentitySyncError, TargetError, UnsafePlanError } from '../errors.ts';
import type { DesiredGrant } from '../plan/subjects.ts';
import type { TargetStatus, TargetUsage } from '../report/outcome.ts';

/** One Deployment's grant on a target; `key` ties the outcome back to its event. */
export interface GrantRequest {
  readonly key: string;
  readonly grant: DesiredGrant;
  /** The OIDC issuer of the cluster this request trusts (IRSA, Azure credentials). */
  readonly issuer: string | undefined;
  /** The workload identity pool of that cluster (GCP workloadIdentityUser members). */
  readonly pool?: string | undefined;
  /** The Deployment's workload identity (principal kinds: trusted as a principal, granted project roles). */
  readonly principal?: string | undefined;
  /**
   * The project roles this request grants (gcp-project). They travel with the request, not the bound target: requests
   * from rules with different roles on one project fold into one round planned by whichever handle came first.
   */
  readonly roles?: readonly string[] | undefined;
  /** The request trusts the Deployment's secondary (disaster-recovery) cluster. */
  readonly dr?: boolean;
  /**
   * Requests of one group are applied all or nothing within a round: a Deployment's grants on its primary and DR
   * clusters either both fit the target's budget or neither is written.
   */
  readonly group?: string;
  /** `revoke` removes what this tool added for the grant's namespace (or principal); default `grant`. */
  readonly action?: 'grant' | 'revoke';
  /** Plan only, never write, even when other requests on the target write (prune off: report stale entries). */
  readonly simulate?: boolean;
}

/** Entries the target would refuse however they are written; the request is reported `blocked`. */
export interface Blocked {
  readonly entries: readonly string[];
  /** Names the rule (the Deny statement's Sid) that blocks each entry. */
  readonly reason: string;
  readonly remedies: readonly string[];
}

export interface GrantOutcome {
  readonly status: TargetStatus;
  readonly added: readonly string[];
  /** A revoke's entries: removed (`revoked`) or left in place because prune is off (`stale`). */
  readonly removed?: readonly string[];
  readonly present?: readonly string[];
  readonly reason?: string;
  readonly remedies?: readonly string[];
  readonly retryable?: boolean;
  /** What the writes for this request did besides the document (see WriteResult), and the plan's warnings. */
  readonly notes?: readonly string[];
  /** `blocked`: the entries the target refuses (see Blocked); `added` and `present` are the rest of the grant. */
  readonly blocked?: readonly string[];
  /** The target's use after the round: the last read (a dry run: what the plan would leave); unknown after a lost read. */
  readonly usage?: TargetUsage;
  /**
   * The target's use as first read, before any write: with `usage`, says whether this round crossed a threshold. Set
   * on one outcome of the round only (see withUsage).
   */
  readonly usageBefore?: TargetUsage;
}

/** How reconcileTarget turns what happened to a request into its outcome: settled, failed, with findings and use. */

/**
 * Every outcome carries the use after the round; the use before it goes to one outcome only, the first request (in
 * request order) that added entries: the one a threshold crossing is told on. Requests of other batches folded into
 * the same round on shared lanes then cannot tell the same crossing again.
 */
export function withUsage(
  outcomes: Map<string, GrantOutcome>,
  requests: readonly GrantRequest[],
  before: TargetUsage | undefined,
  after: TargetUsage | undefined,
): Map<string, GrantOutcome> {
  if (before === undefined && after === undefined) return outcomes;
  const owner = requests.find((request) => (outcomes.get(request.key)?.added.length ?? 0) > 0)?.key;
  for (const [key, outcome] of outcomes) {
    outcomes.set(key, {
      ...outcome,
      ...(after === undefined ? {} : { usage: after }),
      ...(before === undefined || key !== owner ? {} : { usageBefore: before }),
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
