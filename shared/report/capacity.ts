import type { Target } from '../plan/targets.ts';
import type { CapacityWarning, TargetResult, TargetUsage } from './outcome.ts';

/** Use in percent of the limit, one decimal; undefined for a limit of 0 (never configured so, but never a NaN). */
export function usagePercent(usage: TargetUsage): number | undefined {
  return usage.limit === 0 ? undefined : Math.round((usage.used / usage.limit) * 1000) / 10;
}

/** `used/limit unit (percent%)`: the one wording of a target's capacity in Slack, `sync` and `npm start`. */
export function formatUsage(usage: TargetUsage): string {
  const percent = usagePercent(usage);
  return `${usage.used}/${usage.limit} ${usage.unit}${percent === undefined ? '' : ` (${percent}%)`}`;
}

/** At or above the threshold: what the sweep summary lists and the audit marks. */
export function aboveThreshold(usage: TargetUsage, threshold: number): boolean {
  return (usagePercent(usage) ?? 0) >= threshold;
}

/**
 * A change crossed the threshold when the target was below it before the round and is at or above it after. Stateless
 * on purpose: the event whose write crossed says so once; the events after it (still above) do not repeat it, and a
 * target that was already full when this tool first met it is the sweep summary's to list.
 */
export function crossedThreshold(before: TargetUsage, after: TargetUsage, threshold: number): boolean {
  return !aboveThreshold(before, threshold) && aboveThreshold(after, threshold);
}

/**
 * How many more Deployments like this one still fit: the room left divided by what one Deployment's entries cost in the
 * target's unit. A trust-policy subject costs its quoted JSON string and a comma; a member or a credential costs one.
 * A cluster's first Deployment also adds a statement, so for a new cluster the figure is an upper bound.
 */
export function headroom(usage: TargetUsage, entries: readonly string[]): number | undefined {
  const unique = [...new Set(entries)];
  if (unique.length === 0) return undefined;
  const cost =
    usage.unit === 'characters'
      ? unique.reduce((sum, entry) => sum + JSON.stringify(entry).length + 1, 0)
      : unique.length;
  return Math.max(0, Math.floor((usage.limit - usage.used) / cost));
}

/** What the configuration already does about a full target, so a remedy is never one that is already taken. */
export interface CapacitySettings {
  readonly warnAtPercent: number;
  readonly useLiveQuota: boolean;
  readonly wildcard: boolean;
}

/** What a person can do about a target nearing its limit, most direct first, per kind. */
export function capacityRemedies(kind: Target['kind'], settings: CapacitySettings): string[] {
  const another = 'Send further Deployments to another';
  const prune =
    'Remove entries of Deployments that no longer exist: `audit` lists them; enable prune to have the sweep do it.';
  switch (kind) {
    case 'aws-role':
    case 'aws-role-principal':
      return [
        settings.useLiveQuota
          ? 'Raise the "Role trust policy length" quota (L-C07B4B0D) in Service Quotas; aws.useLiveQuota reads the new value.'
          : 'Raise the "Role trust policy length" quota (L-C07B4B0D) in Service Quotas, then set aws.trustPolicyMaxSize to the new value (or aws.useLiveQuota: true).',
        ...(kind === 'aws-role' && !settings.wildcard
          ? [
              'On Dedicated clusters, set wildcard.enabled: true: one system:serviceaccount:<namespace>:* subject per Deployment instead of one per service account.',
            ]
          : []),
        `${another} IAM role (a second targets rule matching them).`,
        prune,
      ];
    case 'gcp-service-account':
    case 'gcp-service-account-token-creator':
      return [`Google allows 1,500 members per policy, a fixed limit. ${another} Google service account.`, prune];
    case 'gcp-project':
      return [
        'Google allows 1,500 members per project policy, a fixed limit: move members a person added into groups.',
        prune,
      ];
    case 'azure-identity':
      return [
        `Azure allows 20 federated credentials per identity, a fixed limit. ${another} user-assigned managed identity (a second targets rule matching them).`,
        prune,
      ];
  }
}

/** One slot of a batch: a target's result for one event, with its use before the round. */
export interface UsageSlot {
  readonly target: Target;
  readonly result: TargetResult;
  readonly before: TargetUsage | undefined;
}

const CHANGED: ReadonlySet<TargetResult['status']> = new Set(['granted', 'planned', 'blocked']);

/**
 * Puts the capacity warning on the first result, in batch order, of each target a change took across the threshold:
 * requests folded into one round share one before and one after, so the crossing is said once, not per event.
 */
export function warnCrossings(rows: readonly (readonly UsageSlot[])[], settings: CapacitySettings): TargetResult[][] {
  const warned = new Set<string>();
  return rows.map((row) =>
    row.map((slot) => {
      const { result, before, target } = slot;
      const after = result.usage;
      const key = `${target.kind}|${target.id}`;
      if (after === undefined || before === undefined || warned.has(key) || !CHANGED.has(result.status)) return result;
      if (result.added.length === 0 || !crossedThreshold(before, after, settings.warnAtPercent)) return result;
      warned.add(key);
      // The Deployment's shape on this target: every part of its grant (primary and DR), added or already there.
      const entries = row
        .filter((other) => other.target.kind === target.kind && other.target.id === target.id)
        .flatMap((other) => [...other.result.added, ...other.result.present]);
      const room = headroom(after, entries);
      const warning: CapacityWarning = {
        percent: usagePercent(after) ?? 0,
        threshold: settings.warnAtPercent,
        ...(room === undefined ? {} : { headroom: room }),
        remedies: capacityRemedies(target.kind, settings),
      };
      return { ...result, capacityWarning: warning };
    }),
  );
}

/** A target's use as a run saw it (the fullest reading, if several results named it). */
export interface TargetCapacity {
  readonly cloud: TargetResult['cloud'];
  readonly target: string;
  readonly kind?: NonNullable<TargetResult['kind']>;
  readonly usage: TargetUsage;
}

/**
 * Every target the results read, once each, with the fullest reading; fullest first. Kinds that write one document (a
 * role's IRSA subjects and its trusted principals) are one target: they share its limit.
 */
export function targetCapacities(results: readonly TargetResult[]): TargetCapacity[] {
  const byTarget = new Map<string, TargetCapacity>();
  for (const result of results) {
    if (result.usage === undefined) continue;
    const key = `${result.cloud}|${result.target}`;
    const seen = byTarget.get(key);
    if (seen !== undefined && seen.usage.used >= result.usage.used) continue;
    byTarget.set(key, {
      cloud: result.cloud,
      target: result.target,
      ...(result.kind === undefined ? {} : { kind: result.kind }),
      usage: result.usage,
    });
  }
  return [...byTarget.values()].sort(
    (a, b) => (usagePercent(b.usage) ?? 0) - (usagePercent(a.usage) ?? 0) || a.target.localeCompare(b.target),
  );
}
