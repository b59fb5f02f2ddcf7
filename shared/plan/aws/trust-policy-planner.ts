import { DoesNotFitError } from '../../errors.ts';
import { assertIssuer, issuerHostPath, parseRoleArn } from '../guardrails.ts';
import { assertSubjectsInNamespace, type DesiredGrant } from '../subjects.ts';
import {
  asTrustPolicy,
  isJsonObject,
  type JsonObject,
  policySize,
  type TrustPolicyDocument,
} from './policy-document.ts';

export const MANAGED_SID_PREFIX = 'AstroIdentitySync';
export const DEFAULT_TRUST_POLICY_MAX_SIZE = 2048;
const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
const STS_AUDIENCE = 'sts.amazonaws.com';

interface AwsTrustPolicyPlanInput {
  /** The role's current trust policy, parsed (see parseTrustPolicyText). */
  readonly policy: unknown;
  readonly roleArn: string;
  readonly issuer: string;
  readonly grant: DesiredGrant;
  /** Trust policy length quota in characters (AWS default 2048). */
  readonly maxSize?: number;
}

interface AwsTrustPolicyPlan {
  readonly changed: boolean;
  /** Subjects (or namespace patterns) this plan grants that no Allow statement granted before, sorted. */
  readonly added: readonly string[];
  /**
   * The grant's subjects (or its namespace pattern) that an Allow statement, ours or a person's, already granted,
   * sorted; in changed and unchanged plans alike. `added` and `present` together are the grant's subjects.
   */
  readonly present: readonly string[];
  /** Length of the minified result, the figure IAM compares with the quota. */
  readonly size: number;
  readonly policy: TrustPolicyDocument;
}

/** The IRSA identifiers for one issuer in the role's own account and partition. */
export function irsaKeys(roleArn: string, issuer: string) {
  const { partition, account } = parseRoleArn(roleArn);
  const hostPath = issuerHostPath(assertIssuer(issuer));
  return {
    provider: `arn:${partition}:iam::${account}:oidc-provider/${hostPath}`,
    subKey: `${hostPath}:sub`,
    audKey: `${hostPath}:aud`,
    hostPath,
  };
}

/**
 * Adds the grant's subjects to the role's trust policy. Our subjects live in statements whose Sid starts with
 * AstroIdentitySync (one per issuer, a second one for namespace patterns, because StringEquals and StringLike in one
 * statement are ANDed). Every other statement, key and value is returned untouched and in order, and nothing is
 * written when every subject is already granted by any Allow statement.
 */
export function planAwsTrustPolicy(input: AwsTrustPolicyPlanInput): AwsTrustPolicyPlan {
  const document = asTrustPolicy(input.policy);
  assertSubjectsInNamespace(input.grant);
  const keys = irsaKeys(input.roleArn, input.issuer);
  const maxSize = input.maxSize ?? DEFAULT_TRUST_POLICY_MAX_SIZE;
  const statements = Array.isArray(document.Statement) ? document.Statement : [document.Statement];

  const missing: string[] = [];
  const present: string[] = [];
  for (const subject of input.grant.subjects) {
    (statements.some((s) => grantsSubject(s, subject, keys)) ? present : missing).push(subject);
  }
  present.sort();
  if (missing.length === 0) return { changed: false, added: [], present, size: policySize(document), policy: document };

  const operator = input.grant.wildcard ? 'StringLike' : 'StringEquals';
  const managedIndex = statements.findIndex((s) => isManagedStatement(s, operator, keys));
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
  return { changed: true, added: [...missing].sort(), present, size, policy };
}

type IrsaKeys = ReturnType<typeof irsaKeys>;

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function findKey(block: unknown, key: string): string | undefined {
  if (!isJsonObject(block)) return undefined;
  const wanted = key.toLowerCase(); // IAM condition keys are case-insensitive
  return Object.keys(block).find((candidate) => candidate.toLowerCase() === wanted);
}

function conditionValues(condition: JsonObject, operator: string, key: string): string[] | undefined {
  const block = condition[operator];
  const found = findKey(block, key);
  if (found === undefined || !isJsonObject(block)) return undefined;
  return asList(block[found]).filter((value): value is string => typeof value === 'string');
}

function likeMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`, 's').test(value);
}

function allowsWebIdentity(statement: JsonObject, keys: IrsaKeys): boolean {
  if (statement.Effect !== 'Allow' || 'NotPrincipal' in statement || 'NotAction' in statement) return false;
  const actions = asList(statement.Action).map((action) => String(action).toLowerCase());
  if (!actions.some((a) => a === WEB_IDENTITY_ACTION.toLowerCase() || a === 'sts:*' || a === '*')) return false;
  const principal = statement.Principal;
  return isJsonObject(principal) && asList(principal.Federated).includes(keys.provider);
}

/**
 * Whether a statement already lets `subject` assume the role with a token from this issuer. Only conditions on the
 * issuer's sub and aud keys with StringEquals/StringLike are understood; a statement with anything else is treated
 * as not granting, so at worst we add a redundant subject, never skip a needed one.
 */
function grantsSubject(statement: JsonObject, subject: string, keys: IrsaKeys): boolean {
  if (!allowsWebIdentity(statement, keys) || !understoodConditions(statement, keys)) return false;
  const condition = statement.Condition as JsonObject;
  const subEquals = conditionValues(condition, 'StringEquals', keys.subKey);
  const subLike = conditionValues(condition, 'StringLike', keys.subKey);
  if (subEquals === undefined && subLike === undefined) return false;
  return matches(subEquals, equals, subject) && matches(subLike, likeMatches, subject);
}

const equals = (value: string, target: string) => value === target;
const matches = (values: string[] | undefined, test: (v: string, target: string) => boolean, target: string) =>
  values === undefined || values.some((value) => test(value, target));

/**
 * Conditions we can reason about: only StringEquals/StringLike on the issuer's sub and aud keys, with an aud that
 * admits sts.amazonaws.com. Anything else might narrow the grant in ways we cannot see.
 */
function understoodConditions(statement: JsonObject, keys: IrsaKeys): boolean {
  const condition = statement.Condition;
  if (!isJsonObject(condition)) return false;
  const known = new Set([keys.subKey.toLowerCase(), keys.audKey.toLowerCase()]);
  for (const [operator, block] of Object.entries(condition)) {
    if (operator !== 'StringEquals' && operator !== 'StringLike') return false;
    if (!isJsonObject(block) || Object.keys(block).some((key) => !known.has(key.toLowerCase()))) return false;
  }
  return (
    matches(conditionValues(condition, 'StringEquals', keys.audKey), equals, STS_AUDIENCE) &&
    matches(conditionValues(condition, 'StringLike', keys.audKey), likeMatches, STS_AUDIENCE)
  );
}

/**
 * Our statement for this issuer and operator. One that a person edited (an extra condition, another audience) is no
 * longer ours: adding to it would never count as granted and we would rewrite the policy on every event, so a fresh
 * managed statement is added instead and the edited one is left as it is.
 */
function isManagedStatement(statement: JsonObject, operator: 'StringEquals' | 'StringLike', keys: IrsaKeys): boolean {
  if (typeof statement.Sid !== 'string' || !statement.Sid.startsWith(MANAGED_SID_PREFIX)) return false;
  if (!allowsWebIdentity(statement, keys) || !understoodConditions(statement, keys)) return false;
  const condition = statement.Condition as JsonObject;
  const other = operator === 'StringEquals' ? 'StringLike' : 'StringEquals';
  return (
    conditionValues(condition, operator, keys.subKey) !== undefined &&
    conditionValues(condition, other, keys.subKey) === undefined
  );
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
  operator: 'StringEquals' | 'StringLike',
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
