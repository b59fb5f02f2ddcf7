import type { ForeignEntry } from '../plan/ownership.ts';
import { formatUsage, headroom, usagePercent } from './capacity.ts';
import { type EventReport, FAILURE_STATUSES, type TargetResult, type TargetUsage } from './outcome.ts';

/**
 * The security team's question, answered per target: which Deployments it trusts through this tool's entries, which
 * of those entries no current Deployment needs, and what the next sweep would add. Built from a dry run (reads only)
 * and each target's owned entries; pure, so the table, the JSON and the page all show the same numbers.
 */

export interface AuditDeployment {
  readonly id: string;
  readonly name: string;
  readonly namespace: string;
  readonly workspace?: string | undefined;
  /** The grant is for the Deployment's secondary (disaster-recovery) cluster. */
  readonly dr: boolean;
}

export interface AuditTarget {
  readonly cloud: TargetResult['cloud'];
  readonly target: string;
  readonly kind?: string | undefined;
  /** Deployments whose entries are there (all of them, or some while others are missing). */
  readonly trusted: readonly AuditDeployment[];
  /** Deployments that lack entries they need: what the next sweep would add. */
  readonly missing: ReadonlyArray<AuditDeployment & { readonly entries: readonly string[] }>;
  /** Owners (namespaces, workload identities) of this tool's entries that no current Deployment needs here. */
  readonly stale: readonly string[];
  /** Deployments the tool cannot grant here, with why (denied, does not fit, blocked, failed). */
  readonly problems: ReadonlyArray<AuditDeployment & { readonly status: string; readonly reason: string }>;
  /** What the target holds today, as its cloud counts it (the audit's own read). */
  readonly usage?: TargetUsage | undefined;
  /** More Deployments of the largest shape trusted here that still fit; absent when no shape is known. */
  readonly headroom?: number | undefined;
  /** Entries a person added that name an Astro Deployment's namespace: shown, never touched. */
  readonly foreign: readonly string[];
}

export interface AuditReport {
  readonly generatedAt: string;
  /** capacity.warnAtPercent: the page marks targets at or above it. */
  readonly warnAtPercent: number;
  readonly deployments: number;
  readonly targets: readonly AuditTarget[];
}

export interface AuditTargetInput {
  readonly cloud: TargetResult['cloud'];
  readonly target: string;
  readonly kind?: string | undefined;
  /** What `owned()` read: the owners of this tool's entries. */
  readonly owned: readonly string[];
  /** The owners current Deployments need on it (every Deployment of the organization, in scope or not). */
  readonly needed: readonly string[];
  /** Entries not this tool's that name a namespace's service account (TargetHandle.inventory). */
  readonly foreign?: readonly ForeignEntry[];
  /** The target's use as the inventory read found it. */
  readonly usage?: TargetUsage;
}

const keyOf = (cloud: string, target: string) => `${cloud}|${target}`;

export function buildAudit(input: {
  readonly reports: readonly EventReport[];
  readonly targets: readonly AuditTargetInput[];
  /** The namespaces of the organization's Deployments: a person's entry naming one of them is listed. */
  readonly astroNamespaces?: readonly string[];
  readonly generatedAt: string;
  readonly warnAtPercent?: number;
}): AuditReport {
  const astro = new Set(input.astroNamespaces ?? []);
  // Per target, the entries of the Deployment with the most of them: the shape headroom is counted in.
  const shapes = new Map<string, string[]>();
  const byTarget = new Map<string, Mutable>();
  const entry = (cloud: TargetResult['cloud'], target: string, kind?: string): Mutable => {
    const key = keyOf(cloud, target);
    let found = byTarget.get(key);
    if (found === undefined) {
      found = { cloud, target, kind, trusted: [], missing: [], stale: [], problems: [], foreign: [], usage: undefined };
      byTarget.set(key, found);
    }
    return found;
  };
  for (const report of input.reports) {
    for (const result of report.results) {
      const target = entry(result.cloud, result.target, result.kind);
      const who: AuditDeployment = {
        id: report.deployment.id,
        name: report.deployment.name,
        namespace: report.deployment.namespace,
        workspace: report.deployment.workspaceName ?? report.deployment.workspaceId,
        dr: result.dr === true,
      };
      const { usage } = result;
      // A dry run's use is what its plan would leave; the inventory's own read (below) replaces it with today's.
      if (usage !== undefined && (target.usage === undefined || usage.used >= target.usage.used)) target.usage = usage;
      const key = `${keyOf(result.cloud, result.target)}|${report.deployment.id}`;
      shapes.set(key, [...(shapes.get(key) ?? []), ...result.added, ...result.present]);
      if (FAILURE_STATUSES.has(result.status)) {
        target.problems.push({ ...who, status: result.status, reason: result.reason ?? result.status });
        if (result.status !== 'blocked') continue;
      }
      if (result.present.length > 0 || result.status === 'unchanged') target.trusted.push(who);
      if (result.status === 'planned' && result.added.length > 0) {
        target.missing.push({ ...who, entries: [...result.added].sort() });
      }
    }
  }
  for (const t of input.targets) {
    const target = entry(t.cloud, t.target, t.kind);
    const needed = new Set(t.needed);
    target.stale = [...new Set(t.owned)].filter((owner) => !needed.has(owner)).sort();
    target.foreign = [
      ...new Set([...target.foreign, ...(t.foreign ?? []).filter((f) => astro.has(f.namespace)).map((f) => f.entry)]),
    ].sort();
    if (t.usage !== undefined) target.usage = t.usage;
  }
  for (const target of byTarget.values()) {
    const prefix = `${keyOf(target.cloud, target.target)}|`;
    const largest = [...shapes.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, entries]) => [...new Set(entries)])
      .reduce<string[]>((most, entries) => (entries.length > most.length ? entries : most), []);
    if (target.usage !== undefined) target.headroom = headroom(target.usage, largest);
  }
  const targets = [...byTarget.values()].sort((a, b) =>
    keyOf(a.cloud, a.target).localeCompare(keyOf(b.cloud, b.target)),
  );
  const deployments = new Set(input.reports.map((r) => r.deployment.id)).size;
  return { generatedAt: input.generatedAt, warnAtPercent: input.warnAtPercent ?? 80, deployments, targets };
}

type Mutable = {
  -readonly [K in keyof AuditTarget]: AuditTarget[K] extends ReadonlyArray<infer T> ? T[] : AuditTarget[K];
};

/** Capacity in percent, or undefined when the target's use is not known. */
export function auditPercent(target: Pick<AuditTarget, 'usage'>): number | undefined {
  return target.usage === undefined ? undefined : usagePercent(target.usage);
}

/** The table `audit` prints by default: one block per target. */
export function renderAuditTable(report: AuditReport): string {
  const lines = [`${report.targets.length} target(s), ${report.deployments} Deployment(s), ${report.generatedAt}`];
  for (const t of report.targets) {
    const room = t.headroom === undefined ? '' : `, room for ${t.headroom} more Deployment(s)`;
    const use = t.usage === undefined ? '' : `  ${formatUsage(t.usage)}${room}`;
    lines.push('', `${t.cloud} ${t.target}${t.kind === undefined ? '' : ` (${t.kind})`}${use}`);
    for (const d of t.trusted) lines.push(`  trusts   ${d.name} (${d.namespace})${d.dr ? ' DR' : ''}`);
    for (const d of t.missing)
      lines.push(`  missing  ${d.name} (${d.namespace})${d.dr ? ' DR' : ''}: ${d.entries.length} entries`);
    for (const owner of t.stale) lines.push(`  stale    ${owner} (no current Deployment needs it)`);
    for (const entry of t.foreign) lines.push(`  by hand  ${entry} (a person's entry; never touched)`);
    for (const d of t.problems) lines.push(`  ${d.status.padEnd(8)} ${d.name} (${d.namespace}): ${d.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
