import { assertNamespace } from '../guardrails.ts';
import { type ForeignEntry, type RevokePlan, subjectNamespace } from '../ownership.ts';
import { asTrustPolicy, isJsonObject, type JsonObject, type TrustPolicyDocument } from './policy-document.ts';
import { MANAGED_SID_PREFIX } from './trust-policy-planner.ts';

/** What this tool owns on an IAM role: subjects inside statements whose Sid starts with AstroIdentitySync. */

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

/** Subjects naming a namespace in statements a person wrote (not ours): shown by `audit`, never touched. */
export function foreignSubjectsAws(policy: unknown): ForeignEntry[] {
  const document = asTrustPolicy(policy);
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];
  const found: ForeignEntry[] = [];
  for (const statement of statements) {
    if (managedStatements({ Statement: [statement] }).length > 0 || statement.Effect === 'Deny') continue;
    for (const { values } of subValues(statement)) {
      for (const value of values) {
        const namespace = subjectNamespace(value);
        if (namespace !== undefined) found.push({ entry: value, namespace });
      }
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
    const subjects = subValues(statement);
    for (const { operator, key, values } of subjects) {
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
    // Only a statement whose every subject was taken back goes; one that never held subjects (the principal-trust
    // statement, a managed statement someone emptied by hand) is not this revoke's to remove.
    const emptied = subjects.some(({ values }) => values.length > 0) && remaining === 0;
    if (!emptied) next.push(kept);
  }
  if (removed.length === 0) return { changed: false, removed: [], next: document };
  return { changed: true, removed: removed.sort(), next: { ...document, Statement: next } };
}
