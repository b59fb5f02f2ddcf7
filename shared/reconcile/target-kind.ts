import { ValidationError } from '../errors.ts';
import type { ForeignEntry, RevokePlan } from '../plan/ownership.ts';
import type { DesiredGrant } from '../plan/subjects.ts';
import type { Target } from '../plan/targets.ts';
import type { TargetUsage } from '../report/outcome.ts';
import {
  type Blocked,
  type DriverPlan,
  type GrantOutcome,
  type GrantRequest,
  type ReconcileOptions,
  reconcileTarget,
  type TargetDriver,
  type WriteResult,
} from './reconcile-target.ts';
import { reconcileLeased, type TargetLease } from './target-lease.ts';

/**
 * The seam a target kind plugs into. A kind is two halves: the pure planner here in the core (what to add, what to
 * take back, what we own) and the I/O a cloud adapter supplies (read the document, write it). `registerKind` binds
 * them; the pipeline only ever sees a `TargetHandle`, whose document type stays inside. Adding a kind is one planner,
 * one I/O factory and one `registerKind` line in the adapter.
 */

export type TargetKindName = Target['kind'];
export type TargetOf<K extends TargetKindName> = Extract<Target, { kind: K }>;

export interface GrantInput<K extends TargetKindName> {
  readonly target: TargetOf<K>;
  readonly grant: DesiredGrant;
  /** The cluster's OIDC issuer; always set for kinds that need it. */
  readonly issuer: string | undefined;
  /** The cluster's workload identity pool (GCP); always set for kinds that need it. */
  readonly pool: string | undefined;
  /** The Deployment's workload identity; always set for kinds that need it. */
  readonly principal: string | undefined;
  /** The roles the request grants (gcp-project; see GrantRequest.roles). */
  readonly roles: readonly string[] | undefined;
  /** The grant is for the Deployment's secondary (disaster-recovery) cluster. */
  readonly dr: boolean;
}

/** What a kind's grant is built from, besides the Deployment's service accounts. */
export type KindNeeds = 'issuer' | 'pool' | 'principal';

/** The pure side of a target kind: plans over the document the cloud returns, no I/O. */
export interface TargetKind<K extends TargetKindName, Doc> {
  readonly kind: K;
  /**
   * What a grant names: the cluster's issuer (IRSA, Azure credentials), its pool (GCP workloadIdentityUser), or the
   * Deployment's workload identity (principal trust, impersonation, project roles).
   */
  readonly needs: KindNeeds;
  /** What this tool's entries are keyed by, for revoke and the sweep's stale check. */
  readonly owner: 'namespace' | 'principal';
  /**
   * The target has no optimistic concurrency (IAM trust policies have no etag): after a verified write the
   * reconciler waits out a competing read-modify-write and checks again.
   */
  readonly settle: boolean;
  grant(current: Doc, input: GrantInput<K>): GrantPlan<Doc>;
  /** Takes back what this tool added for one owner (a namespace or a principal), and nothing else. */
  revoke(current: Doc, owner: string): RevokePlan<Doc>;
  /** Owners (namespaces or principals) that have entries this tool owns on the target (the sweep's stale check). */
  owned(current: Doc): ReadonlySet<string>;
  /** How much of its hard limit the document uses, counted as the cloud counts it (see TargetUsage). */
  usage(current: Doc): TargetUsage;
  /**
   * Entries a person added that name a namespace's service account (for `audit`; never touched). Kinds whose entries
   * name principals, not namespaces, have none.
   */
  foreign?(current: Doc): readonly ForeignEntry[];
}

export interface GrantPlan<Doc> {
  readonly changed: boolean;
  /** What this plan adds, in the target's own terms (subjects, members, credential names), sorted. */
  readonly added: readonly string[];
  /** What the grant needs and the target already had, sorted. */
  readonly present: readonly string[];
  readonly next: Doc;
  /**
   * What writing `next` does besides the grant (an entry IAM can no longer hold, taken out), one sentence each; the
   * report shows them once the write succeeded.
   */
  readonly notes?: readonly string[];
  /** Entries a rule of the target itself (an explicit IAM Deny) keeps from taking effect: never written; see Blocked. */
  readonly blocked?: Blocked;
  /** What a person should decide about on the target (a managed entry edited by hand), written or not. */
  readonly warnings?: readonly string[];
}

/** The I/O side of a target kind, supplied by a cloud adapter: the only calls that reach the cloud. */
export interface TargetIo<Doc> {
  read(): Promise<Doc>;
  /**
   * Throws WriteConflictError when the write lost a race; TargetError for anything a person must fix. May answer
   * notes on what else the write had to do (an IAM OIDC provider it created), which the report shows.
   */
  write(current: Doc, next: Doc): Promise<WriteResult | undefined>;
  /** What `write` would need, checked without writing (dry runs; see TargetDriver.preview). */
  preview?(current: Doc, next: Doc): Promise<WriteResult | undefined>;
}

/** A target bound to its planner and its I/O. */
export interface TargetHandle {
  /** Kinds that write the same document share a lane but never a round: each round runs one kind's planner. */
  readonly kind: TargetKindName;
  readonly needs: KindNeeds;
  readonly owner: 'namespace' | 'principal';
  /** Read, plan every request, write once, verify (see reconcileTarget). */
  reconcile(requests: readonly GrantRequest[], options?: ReconcileOptions): Promise<Map<string, GrantOutcome>>;
  /** Reads the target and answers the namespaces this tool has entries for. */
  owned(): Promise<ReadonlySet<string>>;
  /** One read for `audit`: the owners of this tool's entries, the entries a person added, and the target's use. */
  inventory(): Promise<TargetInventory>;
}

export interface TargetInventory {
  readonly owned: ReadonlySet<string>;
  readonly foreign: readonly ForeignEntry[];
  readonly usage: TargetUsage | undefined;
}

export interface TargetRegistration {
  readonly kind: TargetKindName;
  bind(target: Target): TargetHandle | undefined;
}

function isKind<K extends TargetKindName>(target: Target, kind: K): target is TargetOf<K> {
  return target.kind === kind;
}

/** Composes the planner and the I/O into the driver reconcileTarget runs; the revoke/issuer branch lives here once. */
export function driverFor<K extends TargetKindName, Doc>(
  kind: TargetKind<K, Doc>,
  io: TargetIo<Doc>,
  target: TargetOf<K>,
): TargetDriver<Doc> {
  return {
    read: () => io.read(),
    write: (current, next) => io.write(current, next),
    ...(io.preview === undefined ? {} : { preview: io.preview.bind(io) }),
    owned: (current) => kind.owned(current),
    usage: (current) => kind.usage(current),
    foreign: (current) => kind.foreign?.(current) ?? [],
    settle: kind.settle,
    plan(current, request): DriverPlan<Doc> {
      if (request.action === 'revoke') {
        const owner = kind.owner === 'principal' ? request.principal : request.grant.namespace;
        if (owner === undefined) return { changed: false, added: [], removed: [], present: [], next: current };
        const revoke = kind.revoke(current, owner);
        const notes = revoke.notes === undefined ? {} : { notes: revoke.notes };
        return {
          changed: revoke.changed,
          added: [],
          removed: revoke.removed,
          present: [],
          next: revoke.next,
          ...notes,
        };
      }
      const given = { issuer: request.issuer, pool: request.pool, principal: request.principal }[kind.needs];
      if (given === undefined) {
        const field = { issuer: 'oidcIssuerUrl', pool: 'gcp.pools', principal: 'effectiveWorkloadIdentity' }[
          kind.needs
        ];
        throw new ValidationError(`${kind.kind} targets need the ${kind.needs} of the cluster`, { field });
      }
      return kind.grant(current, {
        target,
        grant: request.grant,
        issuer: request.issuer,
        pool: request.pool,
        principal: request.principal,
        roles: request.roles,
        dr: request.dr === true,
      });
    },
  };
}

/** The lease a target's writes take, and the target's name in it (kinds writing one document share the name). */
export interface LeaseBinding {
  readonly lease: TargetLease;
  readonly key: string;
}

/** A driver behind the doc-free handle the pipeline, the lanes and the sweep use. */
export function handleOf<Doc>(
  driver: TargetDriver<Doc>,
  shape: Pick<TargetHandle, 'kind' | 'needs' | 'owner'>,
  leased?: LeaseBinding,
): TargetHandle {
  return {
    kind: shape.kind,
    needs: shape.needs,
    owner: shape.owner,
    reconcile: (requests, options) =>
      leased === undefined
        ? reconcileTarget(driver, requests, options)
        : reconcileLeased(driver, leased.lease, leased.key, requests, options),
    owned: async () => driver.owned(await driver.read()),
    inventory: async () => {
      const current = await driver.read();
      return { owned: driver.owned(current), foreign: driver.foreign?.(current) ?? [], usage: driver.usage?.(current) };
    },
  };
}

/**
 * Binds a kind's planner to its I/O. With `lease`, every write to a target is made under the target's lease (see
 * reconcileLeased): for documents without an etag that several processes write.
 */
export function registerKind<K extends TargetKindName, Doc>(
  kind: TargetKind<K, Doc>,
  io: (target: TargetOf<K>) => TargetIo<Doc>,
  lease?: { readonly lease: TargetLease; key(target: TargetOf<K>): string },
): TargetRegistration {
  return {
    kind: kind.kind,
    bind: (target) =>
      isKind(target, kind.kind)
        ? handleOf(
            driverFor(kind, io(target), target),
            kind,
            lease === undefined ? undefined : { lease: lease.lease, key: lease.key(target) },
          )
        : undefined,
  };
}

/** The kinds one function manages; a target of any other kind is reported, never read or written. */
export class TargetRegistry {
  private readonly byKind: ReadonlyMap<TargetKindName, TargetRegistration>;

  constructor(registrations: readonly TargetRegistration[]) {
    this.byKind = new Map(registrations.map((registration) => [registration.kind, registration]));
  }

  manages(target: Target): boolean {
    return this.byKind.has(target.kind);
  }

  /** A fresh handle per call: handles hold no state between rounds, the cloud is the state. */
  bind(target: Target): TargetHandle | undefined {
    return this.byKind.get(target.kind)?.bind(target);
  }

  get kinds(): readonly TargetKindName[] {
    return [...this.byKind.keys()];
  }
}
