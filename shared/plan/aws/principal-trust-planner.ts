import { DoesNotFitError, ValidationError } from '../../errors.ts';
import { parseRoleArn } from '../guardrails.ts';
import { type AccessRequest, denyingStatement, principalValues, statementLabel } from './deny-evaluator.ts';
import {
  asTrustPolicy,
  isJsonObject,
  type JsonObject,
  policySize,
  type TrustPolicyDocument,
} from './policy-document.ts';
import type { BlockedEntry } from './trust-findings.ts';
import { MANAGED_SID_PREFIX } from './trust-policy-planner.ts';

/**
 * The Astro-managed identity path (seed 001, "Authorize your Deployment with AWS IAM roles"): the customer's role
 * trusts the Deployment's workload identity role as `"Principal": {"AWS": [...]}` with `sts:AssumeRole`. Our
 * principals live in one statement whose Sid starts with `AstroIdentitySyncPrincipals`, sorted; every other
 * statement is kept exactly, and a principal any Allow statement already grants is not added again.
 */
export const PRINCIPALS_SID = `${MANAGED_SID_PREFIX}Principals`;
const ASSUME_ROLE = 'sts:AssumeRole';

/** What IAM shows in place of a trusted role that was deleted: its unique id, `AROA` + 17 characters. */
const UNIQUE_ROLE_ID = /^AROA[A-Z0-9]{17}$/;

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function statementsOf(policy: TrustPolicyDocument): JsonObject[] {
  return Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
}

function actionsAssumeRole(statement: JsonObject): boolean {
  return asList(statement.Action).some((a) => ['sts:assumerole', 'sts:*', '*'].includes(String(a).toLowerCase()));
}

function awsPrincipals(statement: JsonObject): string[] {
  const principal = statement.Principal;
  return isJsonObject(principal) ? asList(principal.AWS).filter((p): p is string => typeof p === 'string') : [];
}

/** An unconditional Allow of sts:AssumeRole to exactly this principal (a condition might narrow it: not counted). */
function grantsPrincipal(statement: JsonObject, principal: string): boolean {
  if (statement.Effect !== 'Allow' || 'NotPrincipal' in statement || 'NotAction' in statement) return false;
  if (statement.Condition !== undefined || !actionsAssumeRole(statement)) return false;
  return awsPrincipals(statement).includes(principal);
}

/** Our statement as we write it: anything a person changed in it (a condition, another action) makes it theirs. */
function isOurs(statement: JsonObject): boolean {
  return (
    typeof statement.Sid === 'string' &&
    statement.Sid.startsWith(PRINCIPALS_SID) &&
    statement.Effect === 'Allow' &&
    statement.Action === ASSUME_ROLE &&
    statement.Condition === undefined &&
    Object.keys(statement).every((key) => ['Sid', 'Effect', 'Principal', 'Action'].includes(key)) &&
    isJsonObject(statement.Principal) &&
    Object.keys(statement.Principal).every((key) => key === 'AWS')
  );
}

export interface PrincipalTrustPlan {
  readonly changed: boolean;
  readonly added: readonly string[];
  readonly present: readonly string[];
  /** Deleted roles' unique ids this write takes out of our statements (see withoutDeletedRoles), sorted. */
  readonly dropped: readonly string[];
  /** The principal, when a Deny statement blocks (or may block) it: then nothing is written. */
  readonly blocked: readonly BlockedEntry[];
  /** Our principals statements a person changed (a condition, another action): never extended, reported. */
  readonly edited: readonly { readonly statement: string; readonly edits: readonly string[] }[];
  readonly size: number;
  readonly policy: TrustPolicyDocument;
}

/**
 * The AssumeRole call of the Deployment's workload identity role, as a trust policy's Deny statements see it. Its
 * session names the role and its account; web-identity claims of any issuer are absent; anything else is unknown.
 */
function assumeRoleRequest(principal: string): AccessRequest {
  const { partition, account } = parseRoleArn(principal, 'effectiveWorkloadIdentity');
  const names = new Set([principal, account, `arn:${partition}:iam::${account}:root`, '*'].map((n) => n.toLowerCase()));
  return {
    action: ASSUME_ROLE,
    principal: (element) => principalValues(element, 'AWS').some((p) => names.has(p.toLowerCase())),
    keys: new Map([
      ['aws:principalarn', { exact: principal }],
      ['aws:principalaccount', { exact: account }],
    ]),
    absent: (key) => {
      const host = key.slice(0, key.lastIndexOf(':'));
      return host.includes('.') && !host.startsWith('aws') && !host.startsWith('sts');
    },
  };
}

/** Sids starting with ours whose statement is no longer exactly as we write it, and what differs. */
function editedPrincipalStatements(statements: readonly JsonObject[]) {
  return statements.flatMap((statement, index) => {
    if (typeof statement.Sid !== 'string' || !statement.Sid.startsWith(PRINCIPALS_SID) || isOurs(statement)) return [];
    const edits = [
      ...(statement.Condition === undefined ? [] : ['it has a Condition']),
      ...(statement.Action === ASSUME_ROLE ? [] : [`its Action is not only ${ASSUME_ROLE}`]),
      ...(statement.Effect === 'Allow' ? [] : ['its Effect is not Allow']),
    ];
    return [{ statement: statementLabel(statement, index), edits: edits.length > 0 ? edits : ['its shape changed'] }];
  });
}

/**
 * Our statements without the unique ids of deleted roles; a statement left with no principal goes. This runs on
 * every write of the document, grant or revoke, prune or not, because keeping them is not an option: IAM refuses to
 * save a trust policy naming a principal that no longer exists ("remove the principal ID or replace it with a valid
 * ARN"), so a grant that kept one could never land. It grants nothing (a role created again under the same name has
 * another id), so nothing a Deployment uses is lost; the write reports what it dropped (droppedNotes). Without a
 * write, they stay: a converged role is never written for them, and the sweep lists them as stale (prune off) or
 * revokes them (prune on). A person's statement is never touched: there IAM's refusal reaches the report instead.
 */
export function withoutDeletedRoles(policy: unknown): { policy: TrustPolicyDocument; dropped: readonly string[] } {
  const document = asTrustPolicy(policy);
  const dropped: string[] = [];
  const statements = statementsOf(document).flatMap((statement) => {
    if (!isOurs(statement)) return [statement];
    const principals = awsPrincipals(statement);
    const live = principals.filter((p) => !isDeletedRoleId(p));
    if (live.length === principals.length) return [statement];
    dropped.push(...principals.filter(isDeletedRoleId));
    return live.length === 0 ? [] : [{ ...statement, Principal: { AWS: live } }];
  });
  if (dropped.length === 0) return { policy: document, dropped: [] };
  return { policy: { ...document, Statement: statements }, dropped: dropped.sort() };
}

/** The report line for a write that dropped deleted roles' ids, in the shape GrantPlan and RevokePlan take. */
export function droppedNotes(dropped: readonly string[]): { notes?: readonly string[] } {
  if (dropped.length === 0) return {};
  return {
    notes: [
      `removed ${dropped.join(', ')} from the ${PRINCIPALS_SID} statement: IAM shows a trusted role that was deleted by its unique id, which grants nothing and which IAM refuses to save back`,
    ],
  };
}

export function planAwsPrincipalTrust(input: {
  readonly policy: unknown;
  readonly roleArn: string;
  readonly principal: string;
  readonly maxSize: number;
}): PrincipalTrustPlan {
  const document = asTrustPolicy(input.policy);
  const edited = editedPrincipalStatements(statementsOf(document));
  const deny = denyingStatement(statementsOf(document), assumeRoleRequest(input.principal));
  const unchanged = { changed: false, added: [], dropped: [], size: policySize(document), policy: document, edited };
  if (deny !== undefined) return { ...unchanged, present: [], blocked: [{ entry: input.principal, ...deny }] };
  if (statementsOf(document).some((s) => grantsPrincipal(s, input.principal))) {
    return { ...unchanged, present: [input.principal], blocked: [] };
  }
  const cleaned = withoutDeletedRoles(document);
  const statements = statementsOf(cleaned.policy);
  const index = statements.findIndex(isOurs);
  const next = [...statements];
  const ours = statements[index];
  if (ours !== undefined) {
    const principals = [...new Set([...awsPrincipals(ours), input.principal])].sort();
    next[index] = { ...ours, Principal: { AWS: principals } };
  } else {
    const taken = new Set(statements.map((s) => s.Sid));
    let sid = PRINCIPALS_SID;
    while (taken.has(sid)) sid = `${sid}X`;
    next.push({ Sid: sid, Effect: 'Allow', Principal: { AWS: [input.principal] }, Action: ASSUME_ROLE });
  }
  const policy: TrustPolicyDocument = { ...document, Statement: next };
  const size = policySize(policy);
  if (size > input.maxSize) {
    throw new DoesNotFitError(
      `Trusting ${input.principal} on ${input.roleArn} needs a ${size}-character trust policy; the limit is ${input.maxSize}.`,
      {
        size,
        limit: input.maxSize,
        remedies: [
          'Raise the "Role trust policy length" quota (L-C07B4B0D), then set aws.trustPolicyMaxSize to the new value.',
          'Use another role for some Deployments, or prune Deployments that no longer exist.',
        ],
      },
    );
  }
  return {
    changed: true,
    added: [input.principal],
    present: [],
    blocked: [],
    edited,
    dropped: cleaned.dropped,
    size,
    policy,
  };
}

/** Principals in our statements, including the unique ids IAM shows for trusted roles that were deleted. */
export function ownedPrincipalsAws(policy: unknown): Set<string> {
  return new Set(statementsOf(asTrustPolicy(policy)).filter(isOurs).flatMap(awsPrincipals));
}

/** Whether an owned entry is a deleted role (IAM replaced its ARN with its unique id): stale whatever is in use. */
export function isDeletedRoleId(principal: string): boolean {
  return UNIQUE_ROLE_ID.test(principal);
}

/**
 * Takes one principal out of our statements; a statement left empty is removed. A person's statement is untouched.
 * The write also drops deleted roles' ids from our statements (see withoutDeletedRoles): IAM would refuse it otherwise.
 */
export function revokeAwsPrincipal(
  policy: unknown,
  principal: string,
): { changed: boolean; removed: readonly string[]; dropped: readonly string[]; next: TrustPolicyDocument } {
  if (principal.trim() === '') throw new ValidationError('a principal is required', { field: 'principal' });
  const document = asTrustPolicy(policy);
  let removed = false;
  const next = statementsOf(document).flatMap((statement) => {
    if (!isOurs(statement) || !awsPrincipals(statement).includes(principal)) return [statement];
    removed = true;
    const rest = awsPrincipals(statement).filter((p) => p !== principal);
    return rest.length === 0 ? [] : [{ ...statement, Principal: { AWS: rest } }];
  });
  if (!removed) return { changed: false, removed: [], dropped: [], next: document };
  const cleaned = withoutDeletedRoles({ ...document, Statement: next });
  return { changed: true, removed: [principal], dropped: cleaned.dropped, next: cleaned.policy };
}
