import { DoesNotFitError } from '../../errors.ts';
import { assertSubjectsInNamespace, type DesiredGrant } from '../subjects.ts';
import { asList, type DenyVerdict, denyingStatement, statementLabel } from './deny-evaluator.ts';
import { asTrustPolicy, type JsonObject, policySize, type TrustPolicyDocument } from './policy-document.ts';
import {
  findKey,
  grantsSubject,
  type IrsaKeys,
  irsaKeys,
  isCanonicalStatement,
  MANAGED_SID_PREFIX,
  managedStatementEdits,
  STS_AUDIENCE,
  type SubjectOperator,
  WEB_IDENTITY_ACTION,
  webIdentityRequest,
} from './web-identity-statement.ts';

export { irsaKeys, MANAGED_SID_PREFIX };
export const DEFAULT_TRUST_POLICY_MAX_SIZE = 2048;

interface AwsTrustPolicyPlanInput {
  /** The role's current trust policy, parsed (see parseTrustPolicyText). */
  readonly policy: unknown;
  readonly roleArn: string;
  readonly issuer: string;
  readonly grant: DesiredGrant;
  /** Trust policy length quota in characters (AWS default 2048). */
  readonly maxSize?: number;
}

/** A subject an explicit Deny blocks (or may block: `doubtful`); nothing is ever written for it. */
export interface BlockedSubject extends DenyVerdict {
  readonly subject: string;
}

export interface AwsTrustPolicyPlan {
  readonly changed: boolean;
  /** Subjects (or namespace patterns) this plan grants that no Allow statement granted before, sorted. */
  readonly added: readonly string[];
  /**
   * The grant's subjects (or its namespace pattern) that an Allow statement, ours or a person's, already granted and
   * no Deny blocks, sorted; in changed and unchanged plans alike. `added`, `present` and `blocked` partition the grant.
   */
  readonly present: readonly string[];
  /** Subjects a Deny statement blocks or may block, sorted: neither written nor reported as granted. */
  readonly blocked: readonly BlockedSubject[];
  /**
   * Our statements for this issuer that a person changed (Sid and what differs): never extended, so new subjects go
   * to a fresh canonical statement and a person decides what to do with the edited one.
   */
  readonly edited: readonly { readonly statement: string; readonly edits: readonly string[] }[];
  /** Length of the minified result, the figure IAM compares with the quota. */
  readonly size: number;
  readonly policy: TrustPolicyDocument;
}

/**
 * Adds the grant's subjects to the role's trust policy. Our subjects live in statements whose Sid starts with
 * AstroIdentitySync (one per issuer, a second one for namespace patterns, because StringEquals and StringLike in one
 * statement are ANDed), and only in one exactly as we write it: a managed statement a person edited is left alone,
 * so its weakened conditions never reach a new subject. A subject an explicit Deny covers is not written (IAM would
 * refuse it anyway) but reported. Every other statement, key and value is returned untouched and in order, and
 * nothing is written when every subject is already granted by an Allow statement or blocked.
 */
export function planAwsTrustPolicy(input: AwsTrustPolicyPlanInput): AwsTrustPolicyPlan {
  const document = asTrustPolicy(input.policy);
  assertSubjectsInNamespace(input.grant);
  const keys = irsaKeys(input.roleArn, input.issuer);
  const maxSize = input.maxSize ?? DEFAULT_TRUST_POLICY_MAX_SIZE;
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];

  const missing: string[] = [];
  const present: string[] = [];
  const blocked: BlockedSubject[] = [];
  for (const subject of input.grant.subjects) {
    const deny = denyingStatement(statements, webIdentityRequest(keys, subject));
    if (deny !== undefined) blocked.push({ subject, ...deny });
    else (statements.some((s) => grantsSubject(s, subject, keys)) ? present : missing).push(subject);
  }
  present.sort();
  blocked.sort((a, b) => (a.subject < b.subject ? -1 : 1));
  const edited = statements.flatMap((statement, index) => {
    const edits = managedStatementEdits(statement, keys);
    return edits === undefined || edits.length === 0 ? [] : [{ statement: statementLabel(statement, index), edits }];
  });
  const findings = { present, blocked, edited };
  if (missing.length === 0)
    return { changed: false, added: [], ...findings, size: policySize(document), policy: document };

  const operator: SubjectOperator = input.grant.wildcard ? 'StringLike' : 'StringEquals';
  const managedIndex = statements.findIndex((s) => isCanonicalStatement(s, operator, keys));
  const nextStatements = [...statements];
  const managed = statements[managedIndex];
  if (managed !== undefined) {
    nextStatements[managedIndex] = withSubjects(managed, operator, keys.subKey, missing);
  } else {
    nextStatements.push(newManagedStatement(statements, operator, keys, missing));
  }
  const policy: TrustPolicyDocument = { ...document, Statement: nextStatements };
  const size = policySize(policy);
  if (size > maxSize) {
    throw new DoesNotFitError(
      `Granting ${missing.length} subject(s) on ${input.roleArn} needs a ${size}-character trust policy; the limit is ${maxSize}.`,
      {
        size,
        limit: maxSize,
        remedies: [
          'Raise the "Role trust policy length" quota (L-C07B4B0D) in Service Quotas, then set aws.trustPolicyMaxSize (or --max-size) to the new value.',
          input.grant.wildcard
            ? 'Authorize these Deployments with another role.'
            : 'On a Dedicated cluster, enable the namespace wildcard (system:serviceaccount:<ns>:*): one entry per Deployment.',
          'Give some Deployments another role, or prune Deployments that no longer exist.',
        ],
      },
    );
  }
  return { changed: true, added: [...missing].sort(), ...findings, size, policy };
}

function withSubjects(statement: JsonObject, operator: string, subKey: string, added: readonly string[]): JsonObject {
  const condition = statement.Condition as JsonObject;
  const block = condition[operator] as JsonObject;
  const key = findKey(block, subKey) ?? subKey;
  const merged = [...new Set([...asList(block[key]).map(String), ...added])].sort();
  return { ...statement, Condition: { ...condition, [operator]: { ...block, [key]: merged } } };
}

/** FNV-1a: a short, stable tag so each issuer's statement gets its own alphanumeric Sid (IAM allows no punctuation). */
function issuerTag(hostPath: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < hostPath.length; i++) {
    hash ^= hostPath.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

function newManagedStatement(
  statements: readonly JsonObject[],
  operator: SubjectOperator,
  keys: IrsaKeys,
  subjects: readonly string[],
): JsonObject {
  const taken = new Set(statements.map((s) => s.Sid));
  let sid = `${MANAGED_SID_PREFIX}${operator === 'StringLike' ? 'Ns' : ''}${issuerTag(keys.hostPath)}`;
  while (taken.has(sid)) sid = `${sid}X`;
  const sub = [...subjects].sort();
  const condition: JsonObject =
    operator === 'StringEquals'
      ? { StringEquals: { [keys.audKey]: STS_AUDIENCE, [keys.subKey]: sub } }
      : { StringEquals: { [keys.audKey]: STS_AUDIENCE }, StringLike: { [keys.subKey]: sub } };
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { Federated: keys.provider },
    Action: WEB_IDENTITY_ACTION,
    Condition: condition,
  };
}
