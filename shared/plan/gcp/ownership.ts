import { assertNamespace } from '../guardrails.ts';
import { type ForeignEntry, isAstroServiceAccount, type RevokePlan } from '../ownership.ts';
import { asGcpPolicy, type GcpPolicy, WORKLOAD_IDENTITY_USER } from './policy-planner.ts';

/**
 * What this tool owns on a Google service account: members of the unconditional workloadIdentityUser binding that
 * name an Astro service account of a namespace.
 */

const GCP_SA_MEMBER = /^serviceAccount:([^[\]]+)\[([^/\]]+)\/([^\]]+)\]$/;
const GCP_PRINCIPAL_MEMBER =
  /^principal:\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[^/]+\/subject\/ns\/([^/]+)\/sa\/([^/]+)$/;

function memberServiceAccount(member: string): { namespace: string; serviceAccount: string } | undefined {
  const sa = GCP_SA_MEMBER.exec(member);
  const principal = GCP_PRINCIPAL_MEMBER.exec(member);
  const [namespace, serviceAccount] = sa ? [sa[2], sa[3]] : principal ? [principal[1], principal[2]] : [];
  return namespace === undefined || serviceAccount === undefined ? undefined : { namespace, serviceAccount };
}

/** The namespace of any Kubernetes service account member, Astro-named or not. */
function memberNamespace(member: string): string | undefined {
  return memberServiceAccount(member)?.namespace;
}

function gcpMemberNamespace(member: string): string | undefined {
  const found = memberServiceAccount(member);
  return found !== undefined && isAstroServiceAccount(found.namespace, found.serviceAccount)
    ? found.namespace
    : undefined;
}

function unconditionalWiu(policy: GcpPolicy): number {
  return (policy.bindings ?? []).findIndex((b) => b.role === WORKLOAD_IDENTITY_USER && b.condition === undefined);
}

/**
 * Members naming a namespace's service account outside this tool's binding (a conditional workloadIdentityUser
 * binding, another role): a person's grants, shown by `audit` as `<role>: <member>`, never touched.
 */
export function foreignMembersGcp(policy: unknown): ForeignEntry[] {
  const document = asGcpPolicy(policy);
  const ours = unconditionalWiu(document);
  return (document.bindings ?? []).flatMap((binding, index) =>
    index === ours
      ? []
      : binding.members.flatMap((member) => {
          const namespace = memberNamespace(member);
          return namespace === undefined ? [] : [{ entry: `${binding.role}: ${member}`, namespace }];
        }),
  );
}

export function ownedNamespacesGcp(policy: unknown): Set<string> {
  const document = asGcpPolicy(policy);
  const binding = document.bindings?.[unconditionalWiu(document)];
  return new Set((binding?.members ?? []).map(gcpMemberNamespace).filter((ns): ns is string => ns !== undefined));
}

/** Removes a namespace's Astro members from the unconditional binding; an emptied binding is removed. */
export function revokeGcpNamespace(policy: unknown, namespace: string): RevokePlan<GcpPolicy> {
  assertNamespace(namespace);
  const document = asGcpPolicy(policy);
  const index = unconditionalWiu(document);
  const binding = document.bindings?.[index];
  const removed = (binding?.members ?? []).filter((m) => gcpMemberNamespace(m) === namespace);
  if (binding === undefined || removed.length === 0) return { changed: false, removed: [], next: document };
  const members = binding.members.filter((m) => !removed.includes(m));
  const bindings = (document.bindings ?? []).flatMap((b, i) =>
    i !== index ? [b] : members.length > 0 ? [{ ...b, members }] : [],
  );
  return { changed: true, removed: [...removed].sort(), next: { ...document, bindings } };
}
