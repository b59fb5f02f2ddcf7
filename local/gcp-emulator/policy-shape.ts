import { invalidArgument, unknownJsonField } from './errors.ts';

/** A role binding as IAM stores it; `condition` keeps whatever condition fields the caller sent. */
export interface Binding {
  role: string;
  members: string[];
  condition?: Record<string, unknown>;
}

/** The `google.iam.v1.Policy` fields of one setIamPolicy request, parsed from its JSON body. */
export interface PolicyInput {
  version?: number;
  etag?: string;
  bindings: Binding[];
  auditConfigs?: unknown[];
}

export interface SetRequest {
  policy: PolicyInput;
  /** FieldMask paths; IAM's default when the mask is absent is `bindings, etag`. */
  updateMask: string[] | undefined;
}

// ESF transcodes JSON to the request proto before IAM sees it and rejects names the proto does not have, so only
// these fields can reach the backend (`auditConfigs` is a real Policy field, merely unused by service accounts).
const REQUEST_FIELDS = new Set(['policy', 'updateMask']);
const POLICY_FIELDS = new Set(['version', 'bindings', 'auditConfigs', 'etag']);
const BINDING_FIELDS = new Set(['role', 'members', 'condition']);
const CONDITION_FIELDS = new Set(['expression', 'title', 'description', 'location']);
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidValue(at: string, type: string, value: unknown): never {
  throw invalidArgument(`Invalid value at '${at}' (${type}), ${JSON.stringify(value)}`);
}

function checkNames(value: Record<string, unknown>, allowed: ReadonlySet<string>, at: string | undefined): void {
  for (const name of Object.keys(value)) if (!allowed.has(name)) throw unknownJsonField(name, at);
}

/** proto3 JSON: `null` means "field not set", so treat it like an absent field. */
function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function parseString(value: unknown, at: string): string {
  if (!present(value)) return '';
  if (typeof value !== 'string') invalidValue(at, 'TYPE_STRING', value);
  return value;
}

/** proto3 JSON accepts an int32 as a number or a decimal string. */
export function parseInt32(value: unknown, at: string): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > 2 ** 31) invalidValue(at, 'TYPE_INT32', value);
  return n;
}

function parseCondition(value: unknown, at: string): Record<string, unknown> | undefined {
  if (!present(value)) return undefined;
  if (!isRecord(value)) return invalidValue(at, 'type.googleapis.com/google.type.Expr', value);
  checkNames(value, CONDITION_FIELDS, at);
  for (const [name, field] of Object.entries(value)) parseString(field, `${at}.${name}`);
  return { ...value };
}

function parseBinding(value: unknown, at: string): Binding {
  if (!isRecord(value)) return invalidValue(at, 'type.googleapis.com/google.iam.v1.Binding', value);
  checkNames(value, BINDING_FIELDS, at);
  const role = parseString(value.role, `${at}.role`);
  const rawMembers = present(value.members) ? value.members : [];
  if (!Array.isArray(rawMembers)) return invalidValue(`${at}.members`, 'TYPE_STRING', rawMembers);
  const members = rawMembers.map((m: unknown, i) => parseString(m, `${at}.members[${i}]`));
  const condition = parseCondition(value.condition, `${at}.condition`);
  return condition === undefined ? { role, members } : { role, members, condition };
}

function parsePolicy(value: unknown, at = 'policy'): PolicyInput {
  if (!present(value)) return { bindings: [] };
  if (!isRecord(value)) return invalidValue(at, 'type.googleapis.com/google.iam.v1.Policy', value);
  checkNames(value, POLICY_FIELDS, at);
  const policy: PolicyInput = { bindings: [] };
  if (present(value.version)) policy.version = parseInt32(value.version, `${at}.version`);
  if (present(value.etag)) {
    const etag = parseString(value.etag, `${at}.etag`);
    if (!BASE64.test(etag)) invalidValue(`${at}.etag`, 'TYPE_BYTES', etag);
    // proto3 bytes: an empty etag is the same as no etag, i.e. a blind write.
    if (etag !== '') policy.etag = etag;
  }
  const bindings = present(value.bindings) ? value.bindings : [];
  if (!Array.isArray(bindings))
    return invalidValue(`${at}.bindings`, 'type.googleapis.com/google.iam.v1.Binding', bindings);
  policy.bindings = bindings.map((b: unknown, i) => parseBinding(b, `${at}.bindings[${i}]`));
  if (present(value.auditConfigs)) {
    const configs = value.auditConfigs;
    if (!Array.isArray(configs))
      return invalidValue(`${at}.audit_configs`, 'type.googleapis.com/google.iam.v1.AuditConfig', configs);
    policy.auditConfigs = structuredClone(configs);
  }
  return policy;
}

const MASK_PATHS = new Set(['bindings', 'etag', 'auditConfigs', 'version']);

export function parseSetRequest(body: unknown): SetRequest {
  if (!isRecord(body)) return invalidValue('', 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest', body);
  checkNames(body, REQUEST_FIELDS, undefined);
  let updateMask: string[] | undefined;
  if (present(body.updateMask)) {
    const mask = parseString(body.updateMask, 'update_mask');
    updateMask = mask
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '');
    for (const path of updateMask) {
      if (!MASK_PATHS.has(path)) throw invalidArgument(`Invalid update_mask path: "${path}".`);
    }
  }
  return { policy: parsePolicy(body.policy), updateMask };
}
