import { componentTableFrom } from '../config.ts';
import type { Deployment } from '../intake/deployment.ts';
import { isDeletedRoleId } from '../plan/aws/principal-trust-planner.ts';
import { isDeletedGcpMember } from '../plan/gcp/member-roles-planner.ts';
import { desiredGrant } from '../plan/subjects.ts';
import { createAllowlists, resolveTargets, type Target } from '../plan/targets.ts';
import { FAILURE_STATUSES, type TargetResult } from '../report/outcome.ts';
import { type BatchOptions, MIN_TARGET_MS, reconcileOptionsFor } from './process-batch.ts';
import type { GrantRequest } from './reconcile-target.ts';
import type { DeploymentList, DeploymentLister } from './sweep.ts';
import type { TargetHandle } from './target-kind.ts';

// A hand-edited subject may hold anything; only a valid namespace is ever a candidate for removal.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A list that moved while it was paged is read again this many times before the sweep gives up pruning. */
const LIST_ATTEMPTS = 3;

type Owners = Map<string, Set<string>>;

/**
 * Who may keep entries on each target: per (target, owner), so a Deployment that moved to another role is stale on
 * the old one. Every Deployment of the organization counts, in scope or not, and a denied target too: an entry is
 * never taken for stale because of a setting that merely stopped this tool from granting it.
 */
function ownersByTarget(config: BatchOptions['config'], deployments: readonly Deployment[], into: Owners): void {
  const allowlists = createAllowlists(config);
  for (const d of deployments) {
    for (const { target } of resolveTargets(config, d, allowlists)) {
      const key = `${target.kind}|${target.id}`;
      const owners = into.get(key) ?? new Set<string>();
      for (const owner of [d.namespace, d.effectiveWorkloadIdentity, d.effectiveDRWorkloadIdentity]) {
        if (owner !== undefined) owners.add(owner);
      }
      into.set(key, owners);
    }
  }
}

/** Why a list cannot prove that something belongs to no Deployment, or undefined when it can. */
function doubt(list: DeploymentList): string | undefined {
  if (list.invalid.length > 0) return `the Astro API listed ${list.invalid.length} Deployment(s) this tool cannot read`;
  if (list.complete === false) return 'the Deployment list changed while it was read';
  return undefined;
}

async function consistentList(lister: DeploymentLister): Promise<DeploymentList | string> {
  let reason = '';
  for (let attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
    try {
      const list = await lister.list({});
      const why = doubt(list);
      if (why === undefined) return list;
      reason = why;
    } catch (error) {
      reason = `the second Deployment list failed: ${(error as Error).message}`;
    }
  }
  return reason;
}

interface Candidate {
  readonly target: Target;
  readonly handle: TargetHandle;
  readonly owned: ReadonlySet<string>;
}

/**
 * The sweep's stale check. An entry is removed only when the first list was whole, the targets were read, and a
 * second whole list taken after that read still has no Deployment that needs it on this target: a Deployment created
 * (and granted) while the sweep ran, or one the first list skipped while it moved, is in the second. Anything less
 * is reported as stale with the reason, never removed.
 */
export async function staleCleanup(input: {
  batch: BatchOptions;
  lister: DeploymentLister;
  first: DeploymentList;
  inScope: readonly Deployment[];
}): Promise<TargetResult[]> {
  const { config } = input.batch;
  const targets = new Map<string, Target>();
  const allowlists = createAllowlists(config);
  for (const deployment of input.inScope) {
    for (const resolved of resolveTargets(config, deployment, allowlists)) {
      if (resolved.denied === undefined && input.batch.targets.manages(resolved.target)) {
        targets.set(`${resolved.target.kind}|${resolved.target.id}`, resolved.target);
      }
    }
  }
  const owners: Owners = new Map();
  ownersByTarget(config, input.first.deployments, owners);
  const results: TargetResult[] = [];
  const candidates: Candidate[] = [];
  const { deadline, signal } = input.batch;
  for (const target of targets.values()) {
    const handle = input.batch.targets.bind(target);
    if (handle === undefined) continue;
    if (signal?.aborted || deadline?.expired(MIN_TARGET_MS)) {
      // Out of time: say so per target rather than run past the invocation; the next sweep checks them.
      results.push({
        cloud: target.cloud,
        target: target.id,
        present: [],
        added: [],
        status: 'failed',
        removed: [],
        reason: 'the stale check did not reach this target before the invocation ran out of time; the next sweep does',
        retryable: true,
      });
      continue;
    }
    try {
      const owned = await handle.owned();
      const stale = staleOwners(owned, owners.get(`${target.kind}|${target.id}`), handle);
      if (stale.size > 0) candidates.push({ target, handle, owned: stale });
    } catch (error) {
      const reason = `cannot read for the stale check: ${(error as Error).message}`;
      results.push({
        cloud: target.cloud,
        target: target.id,
        present: [],
        added: [],
        status: 'failed',
        removed: [],
        reason,
      });
    }
  }
  if (candidates.length === 0) return results;
  let withheld = config.prune ? doubt(input.first) : undefined;
  if (config.prune && withheld === undefined) {
    const second = await consistentList(input.lister);
    if (typeof second === 'string') withheld = second;
    else ownersByTarget(config, second.deployments, owners);
  }
  const prune = config.prune && withheld === undefined;
  const stale = candidates.map((candidate) => {
    const key = `${candidate.target.kind}|${candidate.target.id}`;
    return { candidate, key, owners: staleOwners(candidate.owned, owners.get(key), candidate.handle) };
  });
  const young = prune ? await withinGrace(stale, input.batch) : { owners: new Set<string>(), why: '' };
  for (const { candidate, key, owners: staleSet } of stale) {
    const waiting = (owner: string) => young.owners.has(`${key}|${owner}`);
    results.push(...(await cleanupTarget(candidate, staleSet, input.batch, prune, withheld, waiting, young.why)));
  }
  return results;
}

/**
 * Which stale entries are still within `pruneGraceMinutes` (kept, reported): every entry when there is no store to
 * remember them in, so the grace fails closed.
 */
async function withinGrace(
  stale: ReadonlyArray<{ key: string; owners: ReadonlySet<string> }>,
  batch: BatchOptions,
): Promise<{ owners: Set<string>; why: string }> {
  const graceMs = batch.config.pruneGraceMinutes * 60_000;
  const keys = stale.flatMap(({ key, owners }) => [...owners].map((owner) => `${key}|${owner}`));
  if (graceMs === 0 || keys.length === 0) return { owners: new Set(), why: '' };
  const minutes = batch.config.pruneGraceMinutes;
  if (batch.staleMarks === undefined) {
    return {
      owners: new Set(keys),
      why: `pruneGraceMinutes (${minutes}) needs a store that outlives this instance (the AWS lease table), so nothing is removed`,
    };
  }
  const now = Date.now();
  const since = await batch.staleMarks.observe(keys, now);
  const young = keys.filter((key) => now - (since.get(key) ?? now) < graceMs);
  return {
    owners: new Set(young),
    why: `stale since this sweep or recently; removed once still stale on a sweep at least ${minutes} min after the first (pruneGraceMinutes)`,
  };
}

function staleOwners(owned: ReadonlySet<string>, keep: ReadonlySet<string> | undefined, handle: TargetHandle) {
  const byPrincipal = handle.owner === 'principal';
  return new Set([...owned].filter((owner) => keep?.has(owner) !== true && (byPrincipal || DNS_LABEL.test(owner))));
}

async function cleanupTarget(
  { target, handle }: Candidate,
  stale: ReadonlySet<string>,
  batch: BatchOptions,
  prune: boolean,
  withheld: string | undefined,
  waiting: (owner: string) => boolean = () => false,
  graceNote = '',
): Promise<TargetResult[]> {
  const base = { cloud: target.cloud, target: target.id, present: [], added: [] };
  const table = componentTableFrom(batch.config);
  const byPrincipal = handle.owner === 'principal';
  const requests: GrantRequest[] = [...stale].sort().map((owner) => ({
    key: owner,
    // Only the owner matters to a revoke; the components are whatever the table has.
    grant: desiredGrant({ namespace: byPrincipal ? 'stale' : owner, table, selection: { components: ['scheduler'] } }),
    issuer: undefined,
    ...(byPrincipal ? { principal: owner } : {}),
    action: 'revoke',
    simulate: !prune || waiting(owner),
  }));
  if (requests.length === 0) return [];
  const outcomes = await handle.reconcile(requests, reconcileOptionsFor(target, batch));
  const note = (owner: string) =>
    withheld !== undefined
      ? `; not removed although prune is on: ${withheld}`
      : prune && waiting(owner)
        ? `; not removed yet: ${graceNote}`
        : '';
  return requests.map((request) => {
    const outcome = outcomes.get(request.key);
    const why = byPrincipal
      ? isDeletedRoleId(request.key)
        ? `${request.key} is a deleted role (IAM shows its unique id); it belongs to no Deployment`
        : isDeletedGcpMember(request.key)
          ? `${request.key} is a deleted service account; it belongs to no Deployment`
          : `workload identity ${request.key} belongs to no Deployment`
      : `namespace ${request.grant.namespace} belongs to no Deployment on this target`;
    return {
      ...base,
      ...(target.kind === 'aws-role' || target.kind === 'gcp-service-account' || target.kind === 'azure-identity'
        ? {}
        : { kind: target.kind }),
      status: outcome?.status ?? 'failed',
      removed: outcome?.removed ?? [],
      reason: FAILURE_STATUSES.has(outcome?.status ?? 'failed')
        ? (outcome?.reason ?? 'not processed')
        : `${why}${note(request.key)}`,
    };
  });
}
