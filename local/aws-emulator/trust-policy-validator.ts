/**
 * The subset of IAM's trust-policy grammar checks that matter to a trust policy editor. Messages follow the
 * wording real IAM returns with `MalformedPolicyDocument` where it is known, plus detail for debugging.
 */

const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Federated', 'Service', 'CanonicalUser']);
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringOrStrings(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v.length > 0);
}

/** IAM does not count whitespace against the trust policy quota (ACLSizePerRole). */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

function checkPrincipal(principal: unknown): string | undefined {
  if (principal === '*') return undefined;
  if (!isRecord(principal) || Object.keys(principal).length === 0) {
    return `Invalid principal in policy: ${JSON.stringify(principal)}`;
  }
  for (const [type, value] of Object.entries(principal)) {
    if (!PRINCIPAL_TYPES.has(type) || !isStringOrStrings(value)) {
      return `Invalid principal in policy: "${type}":${JSON.stringify(value)}`;
    }
  }
  return undefined;
}

function checkCondition(condition: unknown): string | undefined {
  if (!isRecord(condition)) return 'Syntax errors in policy. Condition must be an object.';
  for (const [operator, block] of Object.entries(condition)) {
    if (!isRecord(block)) return `Syntax errors in policy. Condition operator ${operator} must map keys to values.`;
    for (const [key, value] of Object.entries(block)) {
      const ok = ['string', 'boolean', 'number'].includes(typeof value) || Array.isArray(value);
      if (!ok) return `Syntax errors in policy. Condition ${operator} key ${key} has an invalid value.`;
    }
  }
  return undefined;
}

function checkStatement(statement: unknown, index: number, sids: Set<string>): string | undefined {
  if (!isRecord(statement)) return `Syntax errors in policy. Statement ${index} is not an object.`;
  for (const key of Object.keys(statement)) {
    if (!STATEMENT_KEYS.has(key)) return `Syntax errors in policy. Unknown field ${key} in statement ${index}.`;
  }
  const { Sid, Effect } = statement;
  if (Sid !== undefined) {
    if (typeof Sid !== 'string' || !/^[0-9A-Za-z]*$/.test(Sid)) {
      return 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*';
    }
    if (Sid !== '' && sids.has(Sid)) return 'Statement IDs (SID) in a single policy must be unique.';
    sids.add(Sid);
  }
  if (Effect === undefined) return 'Missing required field Effect';
  if (Effect !== 'Allow' && Effect !== 'Deny') return `Invalid effect: ${String(Effect)}`;
  // Trust policies name who may assume the role, never which resources: IAM rejects Resource outright.
  if ('Resource' in statement) return 'Has prohibited field Resource';
  if ('NotResource' in statement) return 'Has prohibited field NotResource';
  if (statement.Principal === undefined && statement.NotPrincipal === undefined) {
    return 'Missing required field Principal';
  }
  const principalError = checkPrincipal(statement.Principal ?? statement.NotPrincipal);
  if (principalError) return principalError;
  const action = statement.Action ?? statement.NotAction;
  if (action === undefined) return 'Missing required field Action';
  if (!isStringOrStrings(action)) return `Syntax errors in policy. Invalid Action in statement ${index}.`;
  if (statement.Condition !== undefined) return checkCondition(statement.Condition);
  return undefined;
}

/** Returns the MalformedPolicyDocument message, or undefined for an acceptable trust policy. */
export function validateTrustPolicy(text: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return 'This policy contains invalid Json';
  }
  if (!isRecord(document)) return 'Syntax errors in policy. The policy must be a JSON object.';
  for (const key of Object.keys(document)) {
    if (key !== 'Version' && key !== 'Id' && key !== 'Statement') {
      return `Syntax errors in policy. Unknown top-level field ${key}.`;
    }
  }
  if (document.Version !== undefined && !VERSIONS.has(String(document.Version))) {
    return 'The policy failed legacy parsing';
  }
  const { Statement } = document;
  if (Statement === undefined) return 'Missing required field Statement';
  const statements = Array.isArray(Statement) ? Statement : [Statement];
  if (statements.length === 0) return 'Syntax errors in policy. Statement must not be empty.';
  const sids = new Set<string>();
  for (const [index, statement] of statements.entries()) {
    const error = checkStatement(statement, index, sids);
    if (error) return error;
  }
  return undefined;
}
