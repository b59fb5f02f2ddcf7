/**
 * A small reference IAM evaluator for trust policies and one concrete AssumeRoleWithWebIdentity-style request,
 * written apart from the planner's code (no shared helpers) so the property tests judge the planner by IAM's rules:
 * an explicit Deny wins, else an Allow, else the implicit deny. Context keys the generators use but whose value a
 * real request would set (`aws:SourceIp`) are "unknown": each leaf on one evaluates to the given `world`, and the
 * properties hold in both worlds.
 */

export interface ProbeRequest {
  readonly provider: string;
  /** The issuer's host/path: the request carries `<hostPath>:sub` and `<hostPath>:aud`. */
  readonly hostPath: string;
  readonly action: string;
  readonly sub: string;
  readonly aud: string;
}

export type Decision = 'allow' | 'deny' | 'implicit';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const UNKNOWN_KEYS = new Set(['aws:sourceip', 'aws:currenttime', 'sts:rolesessionname']);

function wildcard(pattern: string, value: string, flags = ''): boolean {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, `s${flags}`).test(value);
}

function principalNames(element: unknown, request: ProbeRequest): boolean {
  if (element === '*') return true;
  if (!isObj(element)) return false;
  if (list(element.AWS).includes('*')) return true;
  return list(element.Federated).some((p) => p === '*' || p === request.provider);
}

function leaf(rawOperator: string, key: string, values: unknown[], request: ProbeRequest, world: boolean): boolean {
  const lowerKey = key.toLowerCase();
  if (UNKNOWN_KEYS.has(lowerKey)) return world;
  const context = new Map([
    [`${request.hostPath}:sub`.toLowerCase(), request.sub],
    [`${request.hostPath}:aud`.toLowerCase(), request.aud],
  ]);
  const value = context.get(lowerKey);
  let operator = rawOperator;
  let set: 'any' | 'all' | undefined;
  if (operator.startsWith('ForAnyValue:')) [set, operator] = ['any', operator.slice(12)];
  if (operator.startsWith('ForAllValues:')) [set, operator] = ['all', operator.slice(13)];
  if (operator === 'Null') return values.map(String).includes(value === undefined ? 'true' : 'false');
  const ifExists = operator.endsWith('IfExists');
  if (ifExists) operator = operator.slice(0, -8);
  const tests: Record<string, (v: string, p: string) => boolean> = {
    StringEquals: (v, p) => v === p,
    StringEqualsIgnoreCase: (v, p) => v.toLowerCase() === p.toLowerCase(),
    StringLike: (v, p) => wildcard(p, v),
  };
  const negatedOf: Record<string, string> = {
    StringNotEquals: 'StringEquals',
    StringNotEqualsIgnoreCase: 'StringEqualsIgnoreCase',
    StringNotLike: 'StringLike',
  };
  const positive = negatedOf[operator] ?? operator;
  const test = tests[positive];
  if (test === undefined) return world; // an operator this reference does not model: unknown
  const negated = positive !== operator;
  if (value === undefined) {
    if (ifExists || set === 'all') return true;
    if (set === 'any') return false;
    return negated;
  }
  const hit = values.some((p) => test(value, String(p)));
  return negated ? !hit : hit;
}

function applies(statement: Obj, request: ProbeRequest, world: boolean): boolean {
  const principal =
    'Principal' in statement
      ? principalNames(statement.Principal, request)
      : !principalNames(statement.NotPrincipal, request);
  const action =
    'Action' in statement
      ? list(statement.Action).some((a) => wildcard(String(a), request.action, 'i'))
      : !list(statement.NotAction).some((a) => wildcard(String(a), request.action, 'i'));
  if (!principal || !action) return false;
  const condition = isObj(statement.Condition) ? statement.Condition : {};
  return Object.entries(condition).every(
    ([operator, block]) =>
      isObj(block) && Object.entries(block).every(([key, v]) => leaf(operator, key, list(v), request, world)),
  );
}

export function decide(policy: unknown, request: ProbeRequest, world: boolean): Decision {
  const statements = isObj(policy) ? list(policy.Statement).filter(isObj) : [];
  if (statements.some((s) => s.Effect === 'Deny' && applies(s, request, world))) return 'deny';
  return statements.some((s) => s.Effect === 'Allow' && applies(s, request, world)) ? 'allow' : 'implicit';
}
