import { assertIssuer, issuerHostPath, parseRoleArn } from '../guardrails.ts';
import { type AccessRequest, asList, globMatches, principalValues } from './deny-evaluator.ts';
import { isJsonObject, type JsonObject } from './policy-document.ts';

/**
 * How one statement relates to a Deployment's web-identity request: whether it grants a subject, whether it is our
 * statement exactly as we write it (the only kind we ever add subjects to), and the request IAM evaluates.
 */

export const MANAGED_SID_PREFIX = 'AstroIdentitySync';
export const WEB_IDENTITY_ACTION = 'sts:AssumeRoleWithWebIdentity';
export const STS_AUDIENCE = 'sts.amazonaws.com';

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

export type IrsaKeys = ReturnType<typeof irsaKeys>;

/**
 * The request a pod's token makes: its issuer's provider as the principal, its `sub` and `aud` claims as keys. A
 * namespace pattern stands for every subject under it. Another identity provider's claims (`<host>:sub`) are absent;
 * any other key (`aws:*`, `sts:*`, another claim of this issuer) is one we cannot know, so a Deny on it is doubtful.
 */
export function webIdentityRequest(keys: IrsaKeys, subject: string): AccessRequest {
  const sub = subject.endsWith(':*') ? { prefix: subject.slice(0, -1) } : { exact: subject };
  const ours = keys.hostPath.toLowerCase();
  return {
    action: WEB_IDENTITY_ACTION,
    principal: (element) =>
      principalValues(element, 'Federated').some((p) => p === '*' || p.toLowerCase() === keys.provider.toLowerCase()) ||
      principalValues(element, 'AWS').includes('*'),
    keys: new Map([
      [keys.subKey.toLowerCase(), sub],
      [keys.audKey.toLowerCase(), { exact: STS_AUDIENCE }],
    ]),
    absent: (key) => {
      const colon = key.lastIndexOf(':');
      const host = key.slice(0, colon);
      return colon > 0 && host !== ours && host.includes('.') && !host.startsWith('aws') && !host.startsWith('sts');
    },
  };
}

export function findKey(block: unknown, key: string): string | undefined {
  if (!isJsonObject(block)) return undefined;
  const wanted = key.toLowerCase(); // IAM condition keys are case-insensitive
  return Object.keys(block).find((candidate) => candidate.toLowerCase() === wanted);
}

export function conditionValues(condition: JsonObject, operator: string, key: string): string[] | undefined {
  const block = condition[operator];
  const found = findKey(block, key);
  if (found === undefined || !isJsonObject(block)) return undefined;
  return asList(block[found]).filter((value): value is string => typeof value === 'string');
}

function allowsWebIdentity(statement: JsonObject, keys: IrsaKeys): boolean {
  if (statement.Effect !== 'Allow' || 'NotPrincipal' in statement || 'NotAction' in statement) return false;
  const actions = asList(statement.Action).map((action) => String(action).toLowerCase());
  if (!actions.some((a) => a === WEB_IDENTITY_ACTION.toLowerCase() || a === 'sts:*' || a === '*')) return false;
  return asList(isJsonObject(statement.Principal) ? statement.Principal.Federated : undefined).includes(keys.provider);
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
    matches(conditionValues(condition, 'StringLike', keys.audKey), globMatches, STS_AUDIENCE)
  );
}

/**
 * Whether an Allow statement lets `subject` assume the role with a token from this issuer (Deny statements are the
 * deny evaluator's). Only conditions on the issuer's sub and aud keys with StringEquals/StringLike are understood; a
 * statement with anything else is treated as not granting, so at worst we add a redundant subject, never skip one.
 */
export function grantsSubject(statement: JsonObject, subject: string, keys: IrsaKeys): boolean {
  if (!allowsWebIdentity(statement, keys) || !understoodConditions(statement, keys)) return false;
  const condition = statement.Condition as JsonObject;
  const subEquals = conditionValues(condition, 'StringEquals', keys.subKey);
  const subLike = conditionValues(condition, 'StringLike', keys.subKey);
  if (subEquals === undefined && subLike === undefined) return false;
  return matches(subEquals, equals, subject) && matches(subLike, (v, t) => globMatches(v, t), subject);
}

export type SubjectOperator = 'StringEquals' | 'StringLike';

export function isManagedSid(statement: JsonObject): boolean {
  return typeof statement.Sid === 'string' && statement.Sid.startsWith(MANAGED_SID_PREFIX);
}

/**
 * What differs in a managed statement for this issuer from the canonical form we write: Allow, only
 * `sts:AssumeRoleWithWebIdentity`, only the issuer's provider, `StringEquals` aud exactly `sts.amazonaws.com`, sub
 * under one operator and nothing else. Empty for a canonical statement; undefined for one that is not ours or names
 * another issuer (a canonical statement of another issuer is that issuer's).
 */
export function managedStatementEdits(statement: JsonObject, keys: IrsaKeys): string[] | undefined {
  if (!isManagedSid(statement)) return undefined;
  const federated = asList(isJsonObject(statement.Principal) ? statement.Principal.Federated : undefined);
  if (!federated.includes(keys.provider)) return undefined;
  const edits: string[] = [];
  const extra = Object.keys(statement).filter(
    (k) => !['Sid', 'Effect', 'Principal', 'Action', 'Condition'].includes(k),
  );
  if (extra.length > 0) edits.push(`it has ${extra.join(', ')}`);
  if (statement.Effect !== 'Allow') edits.push('its Effect is not Allow');
  const actions = asList(statement.Action);
  if (actions.length !== 1 || actions[0] !== WEB_IDENTITY_ACTION)
    edits.push(`its Action is not only ${WEB_IDENTITY_ACTION}`);
  if (federated.length !== 1 || Object.keys(statement.Principal as JsonObject).length !== 1) {
    edits.push("its Principal is not only the issuer's OIDC provider");
  }
  const condition = isJsonObject(statement.Condition) ? statement.Condition : {};
  const aud = conditionValues(condition, 'StringEquals', keys.audKey);
  if (aud?.length !== 1 || aud[0] !== STS_AUDIENCE) edits.push(`its aud condition is not StringEquals ${STS_AUDIENCE}`);
  const known = new Set([keys.subKey.toLowerCase(), keys.audKey.toLowerCase()]);
  const operators = Object.entries(condition);
  const unknown = operators.some(
    ([op, block]) =>
      (op !== 'StringEquals' && op !== 'StringLike') ||
      !isJsonObject(block) ||
      Object.keys(block).some((key) => !known.has(key.toLowerCase())) ||
      (op === 'StringLike' && findKey(block, keys.audKey) !== undefined),
  );
  if (unknown) edits.push('it has conditions other than aud and sub');
  const subs = ['StringEquals', 'StringLike'].filter((op) => conditionValues(condition, op, keys.subKey) !== undefined);
  if (subs.length !== 1) edits.push('its sub condition is not under exactly one operator');
  // The Sid says which operator we wrote: a namespace-pattern statement is `...Ns<tag>`, an exact one is not.
  const expected = String(statement.Sid).startsWith(`${MANAGED_SID_PREFIX}Ns`) ? 'StringLike' : 'StringEquals';
  if (subs.length === 1 && subs[0] !== expected) edits.push(`its sub condition uses ${subs[0]}, not ${expected}`);
  return edits;
}

/** Our canonical statement for this issuer and operator: the only statement new subjects are ever added to. */
export function isCanonicalStatement(statement: JsonObject, operator: SubjectOperator, keys: IrsaKeys): boolean {
  if (managedStatementEdits(statement, keys)?.length !== 0) return false;
  return conditionValues(statement.Condition as JsonObject, operator, keys.subKey) !== undefined;
}
