import type { FaultInjector } from './faults.ts';
import { oidcProviderAction } from './oidc-actions.ts';
import { QueryError } from './query-error.ts';
import { DEFAULT_ACCOUNT_ID, documentToText, type IamState, type StoredRole } from './state.ts';
import { policySize, validateTrustPolicy } from './trust-policy-validator.ts';
import { IAM_XMLNS, queryError, queryResponse, STS_XMLNS, type XmlNode } from './xml.ts';

export { QueryError } from './query-error.ts';

export type QueryService = 'iam' | 'sts';

export interface QueryReply {
  status: number;
  xml: string;
}

interface QueryContext {
  state: IamState;
  faults: FaultInjector;
  requestId: string;
}

export function queryErrorReply(service: QueryService, error: QueryError, requestId: string): QueryReply {
  const xmlns = service === 'sts' ? STS_XMLNS : IAM_XMLNS;
  return { status: error.status, xml: queryError(xmlns, error.type, error.code, error.message, requestId) };
}

type Params = Record<string, string>;

/** IAM answers missing/invalid parameters with a Coral-style `ValidationError` (400) before any lookup. */
function validation(member: string, constraint: string, value?: string): QueryError {
  const shown = value === undefined ? 'null' : `'${value}'`;
  return new QueryError(
    400,
    'ValidationError',
    `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function roleNameParam(params: Params): string {
  const name = params.RoleName;
  if (name === undefined) throw validation('roleName', 'Member must not be null');
  if (name.length < 1 || name.length > 64) {
    throw validation('roleName', 'Member must have length less than or equal to 64', name);
  }
  if (!/^[\w+=,.@-]+$/.test(name)) {
    throw validation('roleName', 'Member must satisfy regular expression pattern: [\\w+=,.@-]+', name);
  }
  return name;
}

/** IAM's documented policy document pattern: [\u0009\u000A\u000D\u0020-\u00FF]+ (Latin-1 only). */
function isPolicyCharset(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d)) return false;
  }
  return true;
}

function documentParam(params: Params, param: string, member: string): string {
  const text = params[param];
  if (text === undefined) throw validation(member, 'Member must not be null');
  if (text.length === 0 || !isPolicyCharset(text)) {
    throw validation(member, 'Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+');
  }
  if (text.length > 131072) throw validation(member, 'Member must have length less than or equal to 131072');
  return text;
}

function findRole(state: IamState, roleName: string): StoredRole {
  const role = state.find(roleName);
  if (!role) throw new QueryError(404, 'NoSuchEntity', `The role with name ${roleName} cannot be found.`);
  return role;
}

/** Grammar first (400 MalformedPolicyDocument), then the whitespace-free size (409 LimitExceeded), like IAM. */
function checkDocument(state: IamState, text: string): void {
  const malformed = validateTrustPolicy(text);
  if (malformed !== undefined) throw new QueryError(400, 'MalformedPolicyDocument', malformed);
  const missing = state.principals.problem(JSON.parse(text), (arn) => state.hasRoleArn(arn));
  if (missing !== undefined) throw new QueryError(400, 'MalformedPolicyDocument', missing);
  if (policySize(text) > state.quota) {
    throw new QueryError(409, 'LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${state.quota}`);
  }
}

/** GetRole/CreateRole return the document URL-encoded (RFC 3986); SDK v3 hands it over still encoded. */
function roleXml(role: StoredRole): XmlNode {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    AssumeRolePolicyDocument: encodeURIComponent(role.documentText),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
  };
}

function parseLoosely(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function updateAssumeRolePolicy(ctx: QueryContext, params: Params): XmlNode | undefined {
  const roleName = roleNameParam(params);
  const text = documentParam(params, 'PolicyDocument', 'policyDocument');
  const role = findRole(ctx.state, roleName);
  checkDocument(ctx.state, text);
  const beforeText = role.documentText;
  role.documentText = text;
  // No etag on trust policies: a concurrent writer's full-document write silently replaces ours.
  const before = parseLoosely(beforeText);
  const race = ctx.faults.concurrentOverwrite(before, parseLoosely(text));
  if (race) role.documentText = race.document === before ? beforeText : documentToText(race.document);
  return undefined;
}

function createRole(ctx: QueryContext, params: Params): XmlNode {
  const roleName = roleNameParam(params);
  const text = documentParam(params, 'AssumeRolePolicyDocument', 'assumeRolePolicyDocument');
  if (ctx.state.find(roleName)) {
    throw new QueryError(409, 'EntityAlreadyExists', `Role with name ${roleName} already exists.`);
  }
  checkDocument(ctx.state, text);
  const maxSessionDuration = params.MaxSessionDuration === undefined ? 3600 : Number(params.MaxSessionDuration);
  if (!Number.isInteger(maxSessionDuration) || maxSessionDuration < 3600 || maxSessionDuration > 43200) {
    throw validation('maxSessionDuration', 'Member must have value between 3600 and 43200', params.MaxSessionDuration);
  }
  const role = ctx.state.put(roleName, text, {
    maxSessionDuration,
    ...(params.Path === undefined ? {} : { path: params.Path }),
    ...(params.Description === undefined ? {} : { description: params.Description }),
  });
  return { Role: roleXml(role) };
}

/** Realistic SummaryMap; AssumeRolePolicySizeQuota is the live trust policy quota clients should read. */
function accountSummary(state: IamState): XmlNode {
  const summary: Record<string, number> = {
    Users: 0,
    UsersQuota: 5000,
    Groups: 0,
    GroupsQuota: 300,
    Roles: state.roleCount,
    RolesQuota: 1000,
    Policies: 0,
    PoliciesQuota: 1500,
    PolicySizeQuota: 6144,
    RolePolicySizeQuota: 10240,
    AssumeRolePolicySizeQuota: state.quota,
    UserPolicySizeQuota: 2048,
    GroupPolicySizeQuota: 5120,
    AttachedPoliciesPerRoleQuota: 10,
    Providers: 0,
    AccountMFAEnabled: 0,
    GlobalEndpointTokenVersion: 1,
  };
  const entries = Object.entries(summary).map(([key, value]): XmlNode => ({ entry: { key, value } }));
  return { SummaryMap: entries };
}

function callerIdentity(): XmlNode {
  return {
    Arn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/aws-emulator`,
    UserId: 'AIDAEMULATOR00000000',
    Account: DEFAULT_ACCOUNT_ID,
  };
}

/** Runs one query-protocol action and renders its XML (success or error). */
export function handleQueryAction(
  service: QueryService,
  action: string,
  params: Params,
  ctx: QueryContext,
): QueryReply {
  const xmlns = service === 'sts' ? STS_XMLNS : IAM_XMLNS;
  const version = service === 'sts' ? '2011-06-15' : '2010-05-08';
  try {
    let result: XmlNode | undefined;
    const oidc =
      service === 'iam' ? denyOr(ctx.state, action, () => oidcProviderAction(ctx.state, action, params)) : undefined;
    if (oidc !== undefined) {
      result = oidc.result;
    } else if (service === 'sts' && action === 'GetCallerIdentity') {
      result = callerIdentity();
    } else if (service === 'iam' && action === 'GetRole') {
      result = { Role: roleXml(findRole(ctx.state, roleNameParam(params))) };
    } else if (service === 'iam' && action === 'DeleteRole') {
      ctx.state.deleteRole(findRole(ctx.state, roleNameParam(params)).roleName);
    } else if (service === 'iam' && action === 'UpdateAssumeRolePolicy') {
      result = updateAssumeRolePolicy(ctx, params);
    } else if (service === 'iam' && action === 'CreateRole') {
      result = createRole(ctx, params);
    } else if (service === 'iam' && action === 'GetAccountSummary') {
      result = accountSummary(ctx.state);
    } else {
      throw new QueryError(400, 'InvalidAction', `Could not find operation ${action} for version ${version}`);
    }
    return { status: 200, xml: queryResponse(xmlns, action, result, ctx.requestId) };
  } catch (error) {
    if (error instanceof QueryError) return queryErrorReply(service, error, ctx.requestId);
    throw error;
  }
}

/** An action the caller's policy does not allow answers 403 AccessDenied, naming it, as IAM does. */
function denyOr<T>(state: IamState, action: string, run: () => T): T {
  if (state.denied.has(action)) {
    throw new QueryError(
      403,
      'AccessDenied',
      `User: arn:aws:iam::${state.principals.account}:user/aws-emulator is not authorized to perform: iam:${action} because no identity-based policy allows the iam:${action} action`,
    );
  }
  return run();
}
