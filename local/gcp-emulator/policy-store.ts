import { createHash } from 'node:crypto';
import { concurrentPolicyChange, type GoogleApiError, invalidArgument, permissionDenied } from './errors.ts';
import { hasCondition, normalizeBindings, policyHasConditions } from './policy-rules.ts';
import type { Binding, SetRequest } from './policy-shape.ts';

/** A service account's allow policy as stored: the IAM fields plus anything else a test seeded. */
interface StoredPolicy extends Record<string, unknown> {
  version: number;
  etag: string;
  bindings?: Binding[];
}

interface SetOutcome {
  policy: StoredPolicy;
  /** True when the request carried no etag: IAM accepts it as an unconditional overwrite. */
  blindWrite: boolean;
}

/** How one kind of resource (a service account, a project) answers where IAM's policy methods differ. */
export interface PolicyResourceRules {
  /** No permission, or no such resource: Google answers both alike so callers cannot probe. */
  denied(method: string, resource: string): GoogleApiError;
  /** A write whose etag is not the stored one. */
  conflict(sent: string, current: string): GoogleApiError;
  /** Refuses a member this kind of resource does not take (throws). */
  checkMember?(member: string, role: string): void;
  /** The role the injected concurrent writer adds its member to: one a caller of the tests does not manage. */
  readonly racingRole: string;
}

const SERVICE_ACCOUNT_RULES: PolicyResourceRules = {
  denied: permissionDenied,
  conflict: () => concurrentPolicyChange(),
  racingRole: 'roles/iam.serviceAccountTokenCreator',
};

const VALID_VERSIONS = new Set([0, 1, 3]);
const DEFAULT_MASK = ['bindings', 'etag'];

function bindingsOf(policy: StoredPolicy): Binding[] {
  return Array.isArray(policy.bindings) ? policy.bindings : [];
}

/** Response JSON of a stored policy, leaving out an empty binding list like IAM does. */
function present(policy: StoredPolicy): StoredPolicy {
  const copy = structuredClone(policy);
  if (bindingsOf(copy).length === 0) delete copy.bindings;
  return copy;
}

/** IAM's version-1 rendering of a conditional binding: the condition is hidden behind `<role>_withcond_<hash>`. */
function withcond(binding: Binding): Binding {
  if (!hasCondition(binding)) return binding;
  const hash = createHash('sha256').update(JSON.stringify(binding.condition)).digest('hex').slice(0, 20);
  return { role: `${binding.role}_withcond_${hash}`, members: [...binding.members] };
}

export class PolicyStore {
  readonly #policies = new Map<string, StoredPolicy>();
  /** Methods the caller lacks the permission for, by resource key. */
  readonly #denied = new Map<string, ReadonlySet<string>>();
  readonly pools: Set<string>;
  #etagCounter: number;

  constructor(
    pools: Iterable<string>,
    private readonly rules: PolicyResourceRules = SERVICE_ACCOUNT_RULES,
  ) {
    this.pools = new Set(pools);
    this.#etagCounter = Date.now();
  }

  /**
   * Real etags are 8 opaque bytes in base64 (`BwYxxxxxxxx=`); a strictly increasing counter behind IAM's usual
   * 0x07 0x06 prefix gives every write a new, never-repeated value.
   */
  freshEtag(): string {
    this.#etagCounter += 1;
    const bytes = Buffer.alloc(8);
    bytes.writeUInt16BE(0x0706, 0);
    bytes.writeUIntBE(this.#etagCounter % 2 ** 48, 2, 6);
    return bytes.toString('base64');
  }

  put(email: string, policy?: unknown): void {
    const seeded: Record<string, unknown> =
      typeof policy === 'object' && policy !== null ? structuredClone(policy as Record<string, unknown>) : {};
    const bindings = Array.isArray(seeded.bindings) ? (seeded.bindings as Binding[]) : [];
    const stored: StoredPolicy = {
      ...seeded,
      version: typeof seeded.version === 'number' ? seeded.version : policyHasConditions(bindings) ? 3 : 1,
      etag: typeof seeded.etag === 'string' && seeded.etag !== '' ? seeded.etag : this.freshEtag(),
    };
    this.#policies.set(email.toLowerCase(), stored);
  }

  has(email: string): boolean {
    return this.#policies.has(email.toLowerCase());
  }

  /** The stored policy itself (a copy); throws for an account the emulator does not know. */
  require(email: string): StoredPolicy {
    const policy = this.#policies.get(email.toLowerCase());
    if (policy === undefined) throw new Error(`gcp-emulator: no service account ${email}`);
    return structuredClone(policy);
  }

  /** Takes the permission for these methods on one resource away from the caller; `[]` gives it back. */
  deny(key: string, methods: readonly string[]): void {
    if (methods.length === 0) this.#denied.delete(key.toLowerCase());
    else this.#denied.set(key.toLowerCase(), new Set(methods));
  }

  #existing(email: string, method: string, resource: string): StoredPolicy {
    const policy = this.#policies.get(email.toLowerCase());
    // IAM checks the permission before it looks the resource up.
    if (policy === undefined || this.#denied.get(email.toLowerCase())?.has(method)) {
      throw this.rules.denied(method, resource);
    }
    return policy;
  }

  /**
   * getIamPolicy. Documented version rules: the answer uses version 3 only when the policy has conditional bindings
   * and the caller asked for 3; asked for less, IAM still answers (no error) but in version 1, with each conditional
   * binding's condition hidden and its role renamed `<role>_withcond_<hash>`.
   */
  get(email: string, resource: string, requestedVersion: number): StoredPolicy {
    if (!VALID_VERSIONS.has(requestedVersion)) {
      throw invalidArgument(`Invalid requested policy version ${requestedVersion}: valid values are 0, 1 and 3.`);
    }
    const policy = present(this.#existing(email, 'getIamPolicy', resource));
    const conditional = policyHasConditions(bindingsOf(policy));
    if (conditional && requestedVersion === 3) return { ...policy, version: 3 };
    if (conditional) return { ...policy, version: 1, bindings: bindingsOf(policy).map(withcond) };
    return { ...policy, version: 1 };
  }

  /**
   * setIamPolicy: validate, compare the etag (stale -> 409 ABORTED, absent -> blind write), then store with a new
   * etag. Fields outside the update mask (default `bindings, etag`) keep their stored values, as in real IAM.
   */
  set(email: string, resource: string, request: SetRequest): SetOutcome {
    const current = this.#existing(email, 'setIamPolicy', resource);
    const { policy } = request;
    const version = policy.version ?? 1;
    if (!VALID_VERSIONS.has(version)) {
      throw invalidArgument(`Invalid policy version ${version}: valid values are 0, 1 and 3.`);
    }
    const bindings = normalizeBindings(policy.bindings, this.pools, this.rules.checkMember);
    const conditional = policyHasConditions(bindings);
    if (conditional && version !== 3) {
      throw invalidArgument(
        `Policy version ${version} cannot contain conditional role bindings: set the policy version to 3 ` +
          'for any policy with conditional role bindings.',
      );
    }
    const blindWrite = policy.etag === undefined;
    if (policy.etag !== undefined && policy.etag !== current.etag) throw this.rules.conflict(policy.etag, current.etag);
    // With an etag, IAM refuses to let a version-1 write replace a policy whose conditions it could not see;
    // without one it allows it and the conditions are silently lost (the documented blind-write hazard).
    if (!blindWrite && version !== 3 && policyHasConditions(bindingsOf(current))) {
      throw invalidArgument(
        `Policy version ${version} cannot be used to modify a policy with conditional role bindings: ` +
          'read the policy with requested policy version 3 and set the policy version to 3.',
      );
    }
    const mask = request.updateMask ?? DEFAULT_MASK;
    const next: StoredPolicy = { ...structuredClone(current), etag: this.freshEtag() };
    if (mask.includes('bindings')) next.bindings = bindings;
    if (mask.includes('auditConfigs')) {
      if (policy.auditConfigs === undefined) delete next.auditConfigs;
      else next.auditConfigs = policy.auditConfigs;
    }
    next.version = policyHasConditions(bindingsOf(next)) ? 3 : 1;
    this.#policies.set(email.toLowerCase(), next);
    return { policy: present(next), blindWrite };
  }

  /**
   * Another writer's read-modify-write landing between the caller's get and set: it adds a member to a role the
   * caller does not manage and bumps the etag. Returns what it added.
   */
  concurrentWrite(email: string, n: number): { role: string; member: string } | undefined {
    const current = this.#policies.get(email.toLowerCase());
    if (current === undefined) return undefined;
    const role = this.rules.racingRole;
    const member = `user:concurrent-writer-${n}@example.com`;
    const bindings = structuredClone(bindingsOf(current));
    const target = bindings.find((b) => b.role === role && b.condition === undefined);
    if (target) target.members.push(member);
    else bindings.push({ role, members: [member] });
    this.#policies.set(email.toLowerCase(), { ...current, bindings, etag: this.freshEtag() });
    return { role, member };
  }
}
