import type { Deployment, DeploymentEventType } from '../intake/deployment.ts';
import type { Target } from '../plan/targets.ts';

/**
 * What happened on one target for one event. `status` drives reporting:
 * - `granted`: we wrote and then read the grant back (`added` lists what is new; `present` what already was);
 * - `planned`: a dry run; `added` is what a real run would write;
 * - `unchanged`: every subject was already granted, nothing written;
 * - `denied`: the target is outside the allowlist (or not configured) and was never read or written;
 * - `does-not-fit` / `conflict`: the plan could not be applied safely; nothing written;
 * - `failed`: the cloud refused or did not answer after retries; `reason` says what to fix;
 * - `blocked`: a rule of the target itself (an explicit Deny in an IAM trust policy) refuses some of the grant's
 *   entries (`blocked` lists them, `reason` names the rule); nothing is written for them, the rest is granted.
 */
export type TargetStatus =
  | 'granted'
  | 'planned'
  | 'unchanged'
  | 'denied'
  | 'does-not-fit'
  | 'conflict'
  | 'failed'
  | 'blocked'
  /** prune: this tool's entries of a deleted Deployment were removed (`removed` lists them) */
  | 'revoked'
  /** prune is off: this tool's entries of a deleted Deployment remain (`removed` lists what prune would remove) */
  | 'stale';

export interface TargetResult {
  readonly cloud: Target['cloud'];
  /** Role ARN, service account email, project, or `<subscription>/<resourceGroup>/<identity>`. */
  readonly target: string;
  /** Set when the target is not its cloud's usual kind: `aws-role-principal`, `gcp-project`, ... */
  readonly kind?: Target['kind'];
  /** The part of the grant that trusts the Deployment's secondary (disaster-recovery) cluster. */
  readonly dr?: true;
  readonly status: TargetStatus;
  /** New entries in the target's own terms: AWS subjects, GCP members, Azure credential names. */
  readonly added: readonly string[];
  /** `revoked`: the entries removed; `stale`: the entries prune would remove; `planned` revoke: what it would remove. */
  readonly removed: readonly string[];
  /** Entries the Deployment needs that were already there (Azure: credentials that already existed). */
  readonly present: readonly string[];
  readonly reason?: string;
  readonly remedies?: readonly string[];
  /** For `failed`: the same event may succeed later (throttling, a racing writer), so the platform should retry it. */
  readonly retryable?: boolean;
  /**
   * What the write did besides the grant itself (an IAM OIDC provider it created), and what a person should decide
   * about on the target (a managed statement edited by hand), one sentence each.
   */
  readonly notes?: readonly string[];
  /** `blocked`: the entries a rule of the target refuses; never written. */
  readonly blocked?: readonly string[];
  /** How full the target is after this event (what the last read found; a dry run: what the plan would leave). */
  readonly usage?: TargetUsage;
  /** This event's change took the target across the configured threshold (capacity.warnAtPercent): said once. */
  readonly capacityWarning?: CapacityWarning;
}

/**
 * A target's use of its hard limit, counted as the cloud counts it: an IAM trust policy's minified length against the
 * account's quota, a GCP policy's members (every binding) against 1,500, an Azure identity's federated credentials
 * against 20.
 */
export interface TargetUsage {
  readonly used: number;
  readonly limit: number;
  readonly unit: 'characters' | 'members' | 'credentials';
}

export interface CapacityWarning {
  /** Use after the change, in percent of the limit (one decimal). */
  readonly percent: number;
  /** The threshold it crossed (capacity.warnAtPercent). */
  readonly threshold: number;
  /** How many more Deployments of this one's shape still fit; absent when the shape is unknown. */
  readonly headroom?: number;
  /** What a person can do before the limit refuses a grant, most direct first. */
  readonly remedies: readonly string[];
}

export interface DeploymentSummary {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly workspaceId?: string | undefined;
  readonly workspaceName?: string | undefined;
  readonly clusterName?: string | undefined;
  readonly cloudProvider?: string | undefined;
}

export interface EventReport {
  /** The webhook id, poller run id or manual request id: the correlation key in logs and Slack. */
  readonly eventId: string;
  readonly type: DeploymentEventType;
  readonly deployment: DeploymentSummary;
  readonly dryRun: boolean;
  readonly results: readonly TargetResult[];
}

export function summarizeDeployment(deployment: Deployment): DeploymentSummary {
  return {
    id: deployment.id,
    name: deployment.name,
    namespace: deployment.namespace,
    workspaceId: deployment.workspaceId,
    workspaceName: deployment.workspaceName,
    clusterName: deployment.clusterName,
    cloudProvider: deployment.cloudProvider,
  };
}

export const FAILURE_STATUSES: ReadonlySet<TargetStatus> = new Set([
  'denied',
  'does-not-fit',
  'conflict',
  'failed',
  'blocked',
]);

export function reportHasFailures(report: EventReport): boolean {
  return report.results.some((result) => FAILURE_STATUSES.has(result.status));
}

/** A change took a target across the capacity threshold: a person must act before the limit refuses a grant. */
export function reportHasCapacityWarning(report: EventReport): boolean {
  return report.results.some((result) => result.capacityWarning !== undefined);
}

const CHANGE_STATUSES: ReadonlySet<TargetStatus> = new Set(['granted', 'revoked', 'stale']);

/** Something a person should hear about even when nothing failed: a grant added or removed, or entries left stale. */
export function reportHasChanges(report: EventReport): boolean {
  return report.results.some(
    (result) => CHANGE_STATUSES.has(result.status) && result.added.length + result.removed.length > 0,
  );
}
