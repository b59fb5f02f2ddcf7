import { isJsonObject, type JsonObject } from './policy-document.ts';

/**
 * Which Deny statement of a trust policy stops one request, judged as IAM does: an explicit Deny beats every Allow,
 * so a subject it covers is not granted whatever we add. Conservative by construction: a Deny whose applicability
 * cannot be decided (an operator we do not evaluate, a key whose value the request carries but we cannot know, a
 * policy variable) is reported as doubtful, never assumed not to apply.
 */

/** A context value: one string, or every string that starts with `prefix` (a namespace pattern's subjects). */
export type ContextValue = { readonly exact: string } | { readonly prefix: string };

export interface AccessRequest {
  readonly action: string;
  /** Whether a `Principal` element names the caller. */
  readonly principal: (element: unknown) => boolean;
  /** Condition keys the request carries, lower case. */
  readonly keys: ReadonlyMap<string, ContextValue>;
  /** Keys the request is known not to carry (lower case); any other key not in `keys` is undecidable. */
  readonly absent: (key: string) => boolean;
}

export interface DenyVerdict {
  /** `Sid`, or `Statement[i]` for a statement without one. */
  readonly statement: string;
  /** `applies`: IAM denies the request; `doubtful`: it may, and we cannot tell. */
  readonly effect: 'applies' | 'doubtful';
  readonly why: string;
}

type Tri = true | false | 'unknown';

export function statementLabel(statement: JsonObject, index: number): string {
  return typeof statement.Sid === 'string' && statement.Sid !== '' ? statement.Sid : `Statement[${index}]`;
}

export function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** IAM's `*` / `?` wildcards, as in actions and StringLike. */
export function globMatches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*')
    .replaceAll('?', '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'si' : 's').test(value);
}

/** Whether some string that starts with `prefix` matches the glob `pattern`. */
function globMeetsPrefix(pattern: string, prefix: string): boolean {
  const closure = (states: Set<number>) => {
    for (const i of [...states]) for (let j = i; pattern[j] === '*'; j++) states.add(j + 1);
    return states;
  };
  let states = closure(new Set([0]));
  for (const char of prefix) {
    const next = new Set<number>();
    for (const i of states) {
      const token = pattern[i];
      if (token === '*') next.add(i);
      else if (token === '?' || token === char) next.add(i + 1);
    }
    states = closure(next);
    if (states.size === 0) return false;
  }
  return true; // what is left of the pattern matches some remainder
}

const STRING_OPERATORS = new Set(['stringequals', 'stringnotequals', 'stringlike', 'stringnotlike']);

/** One operator on one key: true when the key's value satisfies it for some value the context stands for. */
function leaf(
  operator: string,
  policyValues: unknown[],
  value: ContextValue | undefined,
  request: AccessRequest,
  key: string,
): Tri {
  let op = operator.toLowerCase();
  const qualifier = op.startsWith('forallvalues:') ? 'all' : op.startsWith('foranyvalue:') ? 'any' : undefined;
  if (qualifier !== undefined) op = op.slice(op.indexOf(':') + 1);
  const ifExists = op.endsWith('ifexists');
  if (ifExists) op = op.slice(0, -'ifexists'.length);
  if (value === undefined && !request.absent(key)) return 'unknown';
  if (op === 'null' && !ifExists && qualifier === undefined) {
    const wantsAbsent = policyValues.map((v) => String(v).toLowerCase());
    if (wantsAbsent.some((v) => v !== 'true' && v !== 'false')) return 'unknown';
    return wantsAbsent.includes(value === undefined ? 'true' : 'false');
  }
  const ignoreCase = op.endsWith('ignorecase');
  if (ignoreCase) op = op.slice(0, -'ignorecase'.length);
  if (!STRING_OPERATORS.has(op)) return 'unknown';
  const negated = op.includes('not');
  if (value === undefined) return ifExists || qualifier === 'all' ? true : qualifier === 'any' ? false : negated;
  const values = policyValues.filter((v): v is string => typeof v === 'string');
  if (values.length !== policyValues.length || values.some((v) => v.includes('${'))) return 'unknown';
  const like = op.includes('like');
  const fold = (s: string) => (ignoreCase ? s.toLowerCase() : s);
  if ('exact' in value) {
    const hit = values.some((v) => (like ? globMatches(v, value.exact, ignoreCase) : fold(v) === fold(value.exact)));
    return negated ? !hit : hit;
  }
  const prefix = fold(value.prefix);
  if (!negated) return values.some((v) => (like ? globMeetsPrefix(fold(v), prefix) : fold(v).startsWith(prefix)));
  // Some subject under the prefix escapes every value, unless one value is `<part of the prefix>*`.
  return !(like && values.some((v) => /^[^*?]*\*$/.test(v) && prefix.startsWith(fold(v).slice(0, -1))));
}

function conditionHolds(condition: unknown, request: AccessRequest): { tri: Tri; why: string } {
  if (condition === undefined) return { tri: true, why: 'it has no condition' };
  if (!isJsonObject(condition)) return { tri: 'unknown', why: 'its Condition is not an object' };
  let result: { tri: Tri; why: string } = { tri: true, why: 'its conditions match' };
  for (const [operator, block] of Object.entries(condition)) {
    if (!isJsonObject(block)) return { tri: 'unknown', why: `its ${operator} block is not an object` };
    for (const [key, raw] of Object.entries(block)) {
      const tri = leaf(operator, asList(raw), request.keys.get(key.toLowerCase()), request, key.toLowerCase());
      if (tri === false) return { tri: false, why: '' };
      if (tri === 'unknown' && result.tri === true) {
        result = { tri: 'unknown', why: `cannot tell whether ${operator} on ${key} matches` };
      }
    }
  }
  return result;
}

function actionMatches(statement: JsonObject, action: string): Tri {
  if ('Action' in statement) return asList(statement.Action).some((a) => globMatches(String(a), action, true));
  if ('NotAction' in statement) return !asList(statement.NotAction).some((a) => globMatches(String(a), action, true));
  return 'unknown';
}

function principalMatches(statement: JsonObject, request: AccessRequest): Tri {
  if ('Principal' in statement) return request.principal(statement.Principal);
  if ('NotPrincipal' in statement) return !request.principal(statement.NotPrincipal);
  return 'unknown';
}

/** The first Deny that applies to the request, else the first doubtful one, else undefined. */
export function denyingStatement(statements: readonly JsonObject[], request: AccessRequest): DenyVerdict | undefined {
  let doubtful: DenyVerdict | undefined;
  for (const [index, statement] of statements.entries()) {
    if (statement.Effect !== 'Deny') continue;
    const principal = principalMatches(statement, request);
    const action = actionMatches(statement, request.action);
    if (principal === false || action === false) continue;
    const condition = conditionHolds(statement.Condition, request);
    if (condition.tri === false) continue;
    const label = statementLabel(statement, index);
    if (principal === true && action === true && condition.tri === true) {
      return { statement: label, effect: 'applies', why: condition.why };
    }
    const why =
      principal === 'unknown' || action === 'unknown' ? 'it names neither Principal nor Action plainly' : condition.why;
    doubtful ??= { statement: label, effect: 'doubtful', why };
  }
  return doubtful;
}

/** Values a Principal element lists under `field` (`AWS`, `Federated`), or ['*'] for `"Principal": "*"`. */
export function principalValues(element: unknown, field: string): string[] {
  if (element === '*') return ['*'];
  if (!isJsonObject(element)) return [];
  return asList(element[field]).filter((v): v is string => typeof v === 'string');
}
