import { asTrustPolicy, isJsonObject, type JsonObject, type TrustPolicyDocument } from './aws-policy-document.ts';
import { MANAGED_SID_PREFIX } from './aws-trust-policy-planner.ts';
import { type FederatedCredential, normalizeCredentials } from './azure-credentials-planner.ts';
import { DEFAULT_SERVICE_ACCOUNTS } from './components.ts';
import { asGcpPolicy, type GcpPolicy, WORKLOAD_IDENTITY_USER } from './gcp-policy-planner.ts';
import { assertNamespace } from './guardrails.ts';
import { parseSubject } from './subjects.ts';

/**
 * What this tool owns, and how to take it back. Ownership is narrow on purpose, so prune and drift repair can never
 * touch a person's grants:
 * - AWS: subjects inside statements whose Sid starts with AstroIdentitySync;
 * - GCP: members of the unconditional workloadIdentityUser binding naming an Astro service account of a namespace
 *   (`<ns>-...-serviceaccount` or `<ns>-kpo`, the names Astro uses);
 * - Azure: credentials named `<ns>-<component>` whose subject is in that namespace.
 */

export interface RevokePlan<Doc> {
  readonly changed: boolean;
  /** Subjects, members or credential names removed. */
  readonly removed: readonly string[];
  readonly next: Doc;
}

const COMPONENTS = Object.keys(DEFAULT_SERVICE_ACCOUNTS);

/** An Astro-named service account of `namespace` (`<ns>-kpo`, `<ns>-<anything>-serviceaccount`). */
export function isAstroServiceAccount(namespace: string, serviceAccount: string): boolean {
  return (
    serviceAccount === `${namespace}-kpo` ||
    (serviceAccount.startsWith(`${namespace}-`) && serviceAccount.endsWith('-serviceaccount'))
  );
}

function subjectNamespace(subject: string): string | undefined {
  return parseSubject(subject)?.namespace;
}

function managedStatements(policy: TrustPolicyDocument): JsonObject[] {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  return statements.filter((s) => typeof s.Sid === 'string' && s.Sid.startsWith(MANAGED_SID_PREFIX));
}

function subValues(statement: JsonObject): Array<{ operator: string; key: string; values: string[] }> {
  const condition = statement.Condition;
  if (!isJsonObject(condition)) return [];
  const found: Array<{ operator: string; key: string; values: string[] }> = [];
  for (const operator of ['StringEquals', 'StringLike']) {
    const block = condition[operator];
    if (!isJsonObject(block)) continue;
    for (const [key, value] of Object.entries(block)) {
      if (!key.toLowerCase().endsWith(':sub')) continue;
      const values = (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
      found.push({ operator, key, values });
    }
  }
  return found;
}

export function ownedNamespacesAws(policy: unknown): Set<string> {
  const owned = new Set<string>();
  for (const statement of managedStatements(asTrustPolicy(policy))) {
    for (const { values } of subValues(statement)) {
      for (const value of values) {
        const namespace = subjectNamespace(value);
        if (namespace !== undefined) owned.add(namespace);
      }
    }
  }
  return owned;
}

/** Removes a namespace's subjects from our statements; a statement left with no subject is removed whole. */
export function revokeAwsNamespace(policy: unknown, namespace: string): RevokePlan<TrustPolicyDocument> {
  assertNamespace(namespace);
  const document = asTrustPolicy(policy);
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const removed: string[] = [];
  const next: JsonObject[] = [];
  for (const statement of statements) {
    if (!managedStatements({ Statement: [statement] }).length) {
      next.push(statement);
      continue;
    }
    let kept = statement;
    let remaining = 0;
    for (const { operator, key, values } of subValues(statement)) {
      const keep = values.filter((v) => subjectNamespace(v) !== namespace);
      removed.push(...values.filter((v) => subjectNamespace(v) === namespace));
      remaining += keep.length;
      if (keep.length !== values.length) {
        const condition = kept.Condition as JsonObject;
        kept = {
          ...kept,
          Condition: { ...condition, [operator]: { ...(condition[operator] as JsonObject), [key]: keep } },
        };
      }
    }
    if (remaining > 0) next.push(kept);
  }
  if (removed.length === 0) return { changed: false, removed: [], next: document };
  return { changed: true, removed: removed.sort(), next: { ...document, Statement: next } };
}

const GCP_SA_MEMBER = /^serviceAccount:([^[\]]+)\[([^/\]]+)\/([^\]]+)\]$/;
const GCP_PRINCIPAL_MEMBER =
  /^principal:\/\/iam\.googleapis\.com\/projects\/\d+\/locations\/global\/workloadIdentityPools\/[^/]+\/subject\/ns\/([^/]+)\/sa\/([^/]+)$/;

function gcpMemberNamespace(member: string): string | undefined {
  const sa = GCP_SA_MEMBER.exec(member);
  const principal = GCP_PRINCIPAL_MEMBER.exec(member);
  const [namespace, serviceAccount] = sa ? [sa[2], sa[3]] : principal ? [principal[1], principal[2]] : [];
  return namespace !== undefined && serviceAccount !== undefined && isAstroServiceAccount(namespace, serviceAccount)
    ? namespace
    : undefined;
}

function unconditionalWiu(policy: GcpPolicy): number {
  return (policy.bindings ?? []).findIndex((b) => b.role === WORKLOAD_IDENTITY_USER && b.condition === undefined);
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

function azureOwnedNamespace(credential: FederatedCredential): string | undefined {
  const namespace = subjectNamespace(credential.subject);
  if (namespace === undefined) return undefined;
  return COMPONENTS.some((component) => credential.name.toLowerCase() === `${namespace}-${component}`)
    ? namespace
    : undefined;
}

export function ownedNamespacesAzure(existing: unknown): Set<string> {
  return new Set(
    normalizeCredentials(existing)
      .map(azureOwnedNamespace)
      .filter((ns): ns is string => ns !== undefined),
  );
}

/** The credentials to delete for a namespace (ours only); `next` is the list without them. */
export function revokeAzureNamespace(existing: unknown, namespace: string): RevokePlan<FederatedCredential[]> {
  assertNamespace(namespace);
  const credentials = normalizeCredentials(existing);
  const removed = credentials.filter((c) => azureOwnedNamespace(c) === namespace);
  if (removed.length === 0) return { changed: false, removed: [], next: credentials };
  return {
    changed: true,
    removed: removed.map((c) => c.name).sort(),
    next: credentials.filter((c) => !removed.includes(c)),
  };
}
