import { invalidArgument } from './errors.ts';
import type { Binding } from './policy-shape.ts';

/** IAM's documented cap: 1,500 principals per allow policy, each appearance in a binding counting once. */
const MAX_MEMBERS = 1500;

const EMAIL_TYPES = new Set(['user', 'serviceAccount', 'group']);
// GKE's legacy workload identity member: serviceAccount:<project>.svc.id.goog[<namespace>/<ksa>].
const GKE_MEMBER = /^serviceAccount:([^[\]]+)\[([^\]]*)\]$/;
const IDENTITY_POOL =
  /^principal(?:Set)?:\/\/iam\.googleapis\.com\/projects\/[^/]+\/locations\/global\/workloadIdentityPools\/([^/]+)\/(.+)$/;
const WORKFORCE_POOL = /^principal(?:Set)?:\/\/iam\.googleapis\.com\/locations\/global\/workforcePools\/[^/]+\/.+$/;
const RESOURCE_SET = /^principalSet:\/\/(?:cloudresourcemanager|iam)\.googleapis\.com\/.+$/;
const ROLE = /^(?:roles\/[A-Za-z0-9_.]+|(?:projects|organizations)\/[^/]+\/roles\/[A-Za-z0-9_.]+)$/;

function poolDoesNotExist(pool: string): Error {
  // Verbatim text real IAM answers when a workload identity pool (here: a GKE project's pool) does not exist.
  return invalidArgument(
    `Identity Pool does not exist (${pool}). Please check that you specified a valid resource name as returned ` +
      'in the `name` attribute in the configuration API.',
  );
}

function malformed(member: string): Error {
  return invalidArgument(`Invalid member "${member}": Policy members must be of the form "<type>:<value>".`);
}

function checkPrincipal(member: string, pools: ReadonlySet<string>): void {
  const pool = IDENTITY_POOL.exec(member);
  if (pool) {
    const [, id = '', rest = ''] = pool;
    const single = member.startsWith('principal://');
    if (single ? !/^subject\/.+/.test(rest) : rest === '') throw malformed(member);
    if (!pools.has(id)) throw poolDoesNotExist(id);
    return;
  }
  if (WORKFORCE_POOL.test(member)) return;
  if (member.startsWith('principalSet://') && RESOURCE_SET.test(member)) return;
  throw malformed(member);
}

/** Validates one member the way IAM does on write: known type, well-formed value, existing identity pool. */
function checkMember(member: string, pools: ReadonlySet<string>): void {
  if (member === 'allUsers' || member === 'allAuthenticatedUsers') return;
  if (member.startsWith('principal://') || member.startsWith('principalSet://')) {
    checkPrincipal(member, pools);
    return;
  }
  // deleted:<type>:<email>?uid=<n> is how IAM shows principals deleted after being granted; writing it back is fine.
  const plain = member.startsWith('deleted:') ? member.slice('deleted:'.length) : member;
  const colon = plain.indexOf(':');
  if (colon <= 0 || colon === plain.length - 1) throw malformed(member);
  const type = plain.slice(0, colon);
  const value = plain.slice(colon + 1);
  if (type === 'domain' && plain === member) return;
  if (!EMAIL_TYPES.has(type)) throw invalidArgument(`Invalid member type "${type}" in "${member}".`);
  const gke = type === 'serviceAccount' && plain === member ? GKE_MEMBER.exec(member) : null;
  if (gke) {
    const [, pool = '', ksa = ''] = gke;
    if (!/^[^/]+\/[^/]+$/.test(ksa)) throw invalidArgument(`Invalid service account (${value}).`);
    if (!pools.has(pool)) throw poolDoesNotExist(pool);
    return;
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(value.replace(/\?uid=\d+$/, ''))) throw malformed(member);
}

/** A binding is conditional when it carries a non-empty condition (an empty object is no condition). */
export function hasCondition(binding: Binding): boolean {
  return binding.condition !== undefined && Object.keys(binding.condition).length > 0;
}

export function policyHasConditions(bindings: ReadonlyArray<Binding>): boolean {
  return bindings.some(hasCondition);
}

function conditionKey(binding: Binding): string {
  const c = binding.condition ?? {};
  return JSON.stringify([binding.role, c.expression ?? '', c.title ?? '', c.description ?? '', c.location ?? '']);
}

function checkRole(binding: Binding): void {
  // A `_withcond_` role is how IAM renders conditional bindings in version 1; it is not a role that can be granted.
  if (binding.role === '') throw invalidArgument('Role must be specified in every binding.');
  if (!ROLE.test(binding.role) || binding.role.includes('_withcond_')) {
    throw invalidArgument(`Role ${binding.role} is not supported for this resource.`);
  }
  if (binding.condition !== undefined && hasCondition(binding)) {
    const { expression, title } = binding.condition;
    if (typeof expression !== 'string' || expression.trim() === '') {
      throw invalidArgument(`Condition expression must be set (role ${binding.role}).`);
    }
    if (typeof title !== 'string' || title.trim() === '') {
      throw invalidArgument(`Condition title must be set (role ${binding.role}).`);
    }
  }
}

/**
 * Validates and normalizes bindings the way IAM stores them: bindings with the same role and condition are merged,
 * a member repeated within a binding is kept once, bindings left without members are dropped. Member order is kept as
 * given (first appearance wins) so tests can tell whether a client preserved it.
 */
export function normalizeBindings(
  bindings: ReadonlyArray<Binding>,
  pools: ReadonlySet<string>,
  // What one kind of resource refuses on top (a project takes no allUsers).
  resourceCheck: (member: string, role: string) => void = () => {},
): Binding[] {
  const merged = new Map<string, Binding>();
  for (const binding of bindings) {
    checkRole(binding);
    for (const member of binding.members) {
      checkMember(member, pools);
      resourceCheck(member, binding.role);
    }
    const key = conditionKey(binding);
    const target = merged.get(key);
    if (target === undefined) {
      const copy: Binding = { role: binding.role, members: [...new Set(binding.members)] };
      if (hasCondition(binding) && binding.condition !== undefined) copy.condition = { ...binding.condition };
      merged.set(key, copy);
    } else {
      for (const member of binding.members) if (!target.members.includes(member)) target.members.push(member);
    }
  }
  const result = [...merged.values()].filter((b) => b.members.length > 0);
  const total = result.reduce((sum, b) => sum + b.members.length, 0);
  if (total > MAX_MEMBERS) {
    throw invalidArgument(
      `The number of members in the policy (${total}) is larger than the maximum allowed size ${MAX_MEMBERS}.`,
    );
  }
  return result;
}
