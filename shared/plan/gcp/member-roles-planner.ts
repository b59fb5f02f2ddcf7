import { DoesNotFitError } from '../../errors.ts';
import { assertGcpServiceAccountEmail } from '../guardrails.ts';
import { asGcpPolicy, GCP_MAX_MEMBERS, type GcpBinding, type GcpPolicy } from './policy-planner.ts';

/**
 * One member in the unconditional binding of each of some roles: the shape of the Astro-managed identity paths on
 * GCP (seed 001): `roles/iam.serviceAccountTokenCreator` on a service account (impersonation) and project roles
 * (`gcloud projects add-iam-policy-binding`). Conditional bindings, other roles, audit configs, the etag and every
 * other member are kept exactly; the member is written only where no unconditional binding of the role has it.
 */

export function workloadIdentityMember(principal: string): string {
  return `serviceAccount:${assertGcpServiceAccountEmail(principal, 'effectiveWorkloadIdentity')}`;
}

const DELETED_MEMBER = /^deleted:serviceAccount:([^?\s]+)\?uid=\d+$/;

/** Whether an owned entry is a member IAM marks as deleted (its service account is gone): stale whatever is in use. */
export function isDeletedGcpMember(owner: string): boolean {
  return DELETED_MEMBER.test(owner);
}

/**
 * Whether a revoke may touch this principal: an Astro identity (the principal allowlist), or the deleted form of one.
 * A policy has no marker of who added a member, so the allowlist is the ownership: anything else is a person's.
 */
export function isOwnedGcpPrincipal(principal: string, isAstroIdentity: (email: string) => boolean): boolean {
  const email = DELETED_MEMBER.exec(principal)?.[1] ?? principal;
  return isAstroIdentity(email);
}

function unconditional(bindings: readonly GcpBinding[], role: string): number {
  return bindings.findIndex((b) => b.role === role && b.condition === undefined);
}

export interface MemberRolesPlan {
  readonly changed: boolean;
  /** `<role> <member>` per binding the plan adds the member to, sorted. */
  readonly added: readonly string[];
  readonly present: readonly string[];
  readonly policy: GcpPolicy;
}

export function planGcpMemberRoles(input: {
  readonly policy: unknown;
  readonly roles: readonly string[];
  readonly principal: string;
  readonly maxMembers?: number;
}): MemberRolesPlan {
  const policy = asGcpPolicy(input.policy);
  const member = workloadIdentityMember(input.principal);
  let bindings = [...(policy.bindings ?? [])];
  const added: string[] = [];
  const present: string[] = [];
  for (const role of [...input.roles].sort()) {
    const index = unconditional(bindings, role);
    const binding = bindings[index];
    if (binding?.members.includes(member)) {
      present.push(`${role} ${member}`);
      continue;
    }
    added.push(`${role} ${member}`);
    bindings =
      binding === undefined
        ? [...bindings, { role, members: [member] }]
        : bindings.map((b, i) => (i === index ? { ...b, members: [...b.members, member] } : b));
  }
  if (added.length === 0) return { changed: false, added: [], present, policy };
  const maxMembers = input.maxMembers ?? GCP_MAX_MEMBERS;
  const total = bindings.reduce((sum, b) => sum + b.members.length, 0);
  if (total > maxMembers) {
    throw new DoesNotFitError(`Adding ${member} would give the policy ${total} members; Google allows ${maxMembers}.`, {
      size: total,
      limit: maxMembers,
      remedies: ['Remove members of Deployments that no longer exist (enable prune), or grant through a group.'],
    });
  }
  return { changed: true, added, present, policy: { ...policy, bindings } };
}

/**
 * The workload identities this tool granted: members of the unconditional bindings of these roles that are Astro
 * identities (the principal allowlist). A person's member, and any conditional binding, is never this tool's.
 */
export function ownedGcpPrincipals(
  policy: unknown,
  roles: readonly string[],
  isAstroIdentity: (email: string) => boolean,
): Set<string> {
  const owned = new Set<string>();
  for (const binding of asGcpPolicy(policy).bindings ?? []) {
    if (binding.condition !== undefined || !roles.includes(binding.role)) continue;
    for (const member of binding.members) {
      const email = member.startsWith('serviceAccount:') ? member.slice('serviceAccount:'.length) : undefined;
      if (email !== undefined && isAstroIdentity(email)) owned.add(email);
      // IAM shows a member whose service account was deleted as deleted:serviceAccount:<email>?uid=<n>: it is still
      // ours (an Astro identity in our binding) and can serve no Deployment, so the sweep may take it back whole.
      const deleted = DELETED_MEMBER.exec(member)?.[1];
      if (deleted !== undefined && isAstroIdentity(deleted)) owned.add(member);
    }
  }
  return owned;
}

/** Takes a workload identity out of the unconditional bindings of these roles; an emptied binding is removed. */
export function revokeGcpPrincipal(
  policy: unknown,
  roles: readonly string[],
  principal: string,
): { changed: boolean; removed: readonly string[]; next: GcpPolicy } {
  const document = asGcpPolicy(policy);
  const member = principal.startsWith('deleted:') ? principal : `serviceAccount:${principal}`;
  const removed: string[] = [];
  const bindings = (document.bindings ?? []).flatMap((binding) => {
    if (binding.condition !== undefined || !roles.includes(binding.role) || !binding.members.includes(member)) {
      return [binding];
    }
    removed.push(`${binding.role} ${member}`);
    const members = binding.members.filter((m) => m !== member);
    return members.length === 0 ? [] : [{ ...binding, members }];
  });
  if (removed.length === 0) return { changed: false, removed: [], next: document };
  return { changed: true, removed: removed.sort(), next: { ...document, bindings } };
}
