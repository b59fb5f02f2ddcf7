import { ValidationError } from '../../errors.ts';

export type JsonObject = Record<string, unknown>;

export interface TrustPolicyDocument extends JsonObject {
  Statement: JsonObject | JsonObject[];
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a trust policy from the forms people and APIs hand over: plain JSON, the RFC 3986 URL-encoded string that
 * IAM GetRole returns (the SDK does not decode it), or the whole `aws iam get-role` output.
 */
export function parseTrustPolicyText(text: string, field = 'policy'): TrustPolicyDocument {
  const trimmed = text.trim();
  let json: string = trimmed;
  if (/^%7b/i.test(trimmed)) {
    try {
      json = decodeURIComponent(trimmed);
    } catch (cause) {
      throw new ValidationError('the URL-encoded policy document cannot be decoded', { field, cause });
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (cause) {
    throw new ValidationError(`not valid JSON (${(cause as Error).message})`, { field, cause });
  }
  const role = isJsonObject(parsed) && isJsonObject(parsed.Role) ? parsed.Role : undefined;
  if (role !== undefined) {
    const inner = role.AssumeRolePolicyDocument;
    if (typeof inner === 'string') return parseTrustPolicyText(inner, `${field}.Role.AssumeRolePolicyDocument`);
    return asTrustPolicy(inner, `${field}.Role.AssumeRolePolicyDocument`);
  }
  return asTrustPolicy(parsed, field);
}

export function asTrustPolicy(value: unknown, field = 'policy'): TrustPolicyDocument {
  if (!isJsonObject(value)) throw new ValidationError('an IAM policy document must be a JSON object', { field });
  const statement = value.Statement;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statement === undefined || !statements.every(isJsonObject)) {
    throw new ValidationError('an IAM policy document needs "Statement": an object or an array of objects', {
      field: `${field}.Statement`,
    });
  }
  return value as TrustPolicyDocument;
}

/** IAM counts the policy without white space; the minified JSON is what we send and what we measure. */
export function policySize(policy: unknown): number {
  return JSON.stringify(policy).length;
}

const OIDC_PROVIDER_ARN = /^arn:[a-z-]+:iam::\d{12}:oidc-provider\/.+$/;

/** The IAM OIDC providers a trust policy names as `Principal.Federated`: each must exist before IAM saves it. */
export function oidcProviderArns(policy: unknown): Set<string> {
  const found = new Set<string>();
  if (!isJsonObject(policy)) return found;
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  for (const statement of statements) {
    const principal = isJsonObject(statement) ? statement.Principal : undefined;
    if (!isJsonObject(principal)) continue;
    const federated = Array.isArray(principal.Federated) ? principal.Federated : [principal.Federated];
    for (const value of federated) if (typeof value === 'string' && OIDC_PROVIDER_ARN.test(value)) found.add(value);
  }
  return found;
}
