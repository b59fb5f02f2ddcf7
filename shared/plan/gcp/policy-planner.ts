import * as z from 'zod/mini';
// By name from core: reading `z.core.$ZodError` at run time would pull all of zod's core into the bundle.
import { $ZodError, type $ZodErrorMap, type $ZodIssue } from 'zod/v4/core';
import { DoesNotFitError, ValidationError } from '../../errors.ts';
import type { TargetUsage } from '../../report/outcome.ts';
import '../../zod-english.ts';
import { toValidationError } from '../../zod-error.ts';
import type { JsonObject } from '../aws/policy-document.ts';
import { assertProjectNumber, assertWorkloadIdentityPool } from '../guardrails.ts';
import { assertSubjectsInNamespace, type DesiredGrant } from '../subjects.ts';

export const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';
export const GCP_MAX_MEMBERS = 1500;

/** Google's limit counts members over every binding of the policy, conditional ones included. */
export function gcpPolicyUsage(policy: GcpPolicy): TargetUsage {
  const used = (policy.bindings ?? []).reduce((sum, binding) => sum + binding.members.length, 0);
  return { used, limit: GCP_MAX_MEMBERS, unit: 'members' };
}

/**
 * Which member syntax to write. With the GKE project number known, both syntaxes are recognised as already granting,
 * whichever one is written, so a member added by hand in the other form is not duplicated.
 */
export type GcpMemberFormat =
  | { kind: 'service-account'; projectNumber?: string }
  | { kind: 'principal'; projectNumber: string };

export interface GcpBinding extends JsonObject {
  role: string;
  members: string[];
}

export interface GcpPolicy extends JsonObject {
  bindings?: GcpBinding[];
}

interface GcpPolicyPlanInput {
  readonly policy: unknown;
  readonly grant: DesiredGrant;
  /** `<gke-project-id>.svc.id.goog` */
  readonly pool: string;
  readonly memberFormat?: GcpMemberFormat;
  readonly maxMembers?: number;
}

interface GcpPolicyPlan {
  readonly changed: boolean;
  /** Members this plan adds to the unconditional workloadIdentityUser binding, sorted. */
  readonly added: readonly string[];
  /**
   * Members of that binding, as written on the policy, that already grant one of the Deployment's service accounts,
   * sorted; in changed and unchanged plans alike. Both forms are listed when both are there.
   */
  readonly present: readonly string[];
  readonly policy: GcpPolicy;
}

export function gcpMember(pool: string, namespace: string, serviceAccount: string, format: GcpMemberFormat): string {
  assertWorkloadIdentityPool(pool);
  if (format.kind === 'principal') {
    const projectNumber = assertProjectNumber(format.projectNumber);
    return `principal://iam.googleapis.com/projects/${projectNumber}/locations/global/workloadIdentityPools/${pool}/subject/ns/${namespace}/sa/${serviceAccount}`;
  }
  return `serviceAccount:${pool}[${namespace}/${serviceAccount}]`;
}

/** For a strict object: a foreign key is "not a field of <what>"; anything else is not this object at all. */
const strictError =
  (what: string, notAnObject: string): $ZodErrorMap =>
  (issue) =>
    issue.code === 'unrecognized_keys' ? `not a field of ${what}` : notAnObject;

const conditionSchema = z.strictObject(
  {
    expression: z.optional(z.string()),
    title: z.optional(z.string()),
    description: z.optional(z.string()),
    location: z.optional(z.string()),
  },
  {
    error: strictError(
      'a binding condition (expression, title, description, location)',
      'a binding condition must be an object of strings (expression, title, description, location)',
    ),
  },
);

const bindingSchema = z.strictObject(
  {
    role: z.string({ error: () => 'a binding needs "role" (a string)' }),
    members: z.array(z.string(), { error: () => 'a binding needs "members" (an array of strings)' }),
    condition: z.optional(conditionSchema),
  },
  {
    error: strictError(
      'a policy binding (role, members, condition)',
      'a binding must be an object with role, members and optionally condition',
    ),
  },
);

const auditLogConfigSchema = z.strictObject(
  { logType: z.optional(z.string()), exemptedMembers: z.optional(z.array(z.string())) },
  { error: strictError('an audit log config (logType, exemptedMembers)', 'an audit log config must be an object') },
);

const auditConfigSchema = z.strictObject(
  { service: z.optional(z.string()), auditLogConfigs: z.optional(z.array(auditLogConfigSchema)) },
  { error: strictError('an audit config (service, auditLogConfigs)', 'an audit config must be an object') },
);

/** google.iam.v1.Policy as Google returns it in JSON: these four fields and no other. */
const gcpPolicySchema = z.strictObject(
  {
    version: z.optional(z.number({ error: () => '"version" must be a whole number' }).check(z.int())),
    bindings: z.optional(z.array(bindingSchema, { error: () => '"bindings" must be an array' })),
    auditConfigs: z.optional(z.array(auditConfigSchema, { error: () => '"auditConfigs" must be an array' })),
    etag: z.optional(z.string({ error: () => '"etag" must be a string' })),
  },
  { error: strictError('a Google IAM policy', 'a Google IAM policy must be a JSON object') },
);

/** zod reports foreign keys on their object; one issue per key, at the key, lets the message name each one. */
function perForeignKey(error: $ZodError): $ZodError {
  return new $ZodError(
    error.issues.flatMap((issue): $ZodIssue[] =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ code: 'custom', path: [...issue.path, key], message: issue.message }))
        : [issue],
    ),
  );
}

const GCP_POLICY_HINT = 'give the output of gcloud iam service-accounts get-iam-policy --format=json';

/**
 * Checks that a value is a Google IAM policy and nothing else, and returns it as it is (same object, keys in their
 * order): a planned policy is written back whole, so a foreign key (an AWS document, a typo) would be sent to Google
 * or carried into the plan's output.
 */
export function asGcpPolicy(value: unknown, field = 'policy'): GcpPolicy {
  const result = gcpPolicySchema.safeParse(value);
  if (!result.success) {
    const error = toValidationError(perForeignKey(result.error), { prefix: field });
    throw new ValidationError(`${error.message}; ${GCP_POLICY_HINT}`, {
      ...(error.field === undefined ? {} : { field: error.field }),
      cause: result.error,
    });
  }
  return value as GcpPolicy;
}

/**
 * Adds the grant's Kubernetes service accounts as members of the one unconditional roles/iam.workloadIdentityUser
 * binding (created when missing). Conditional bindings, other roles, `etag`, `version` and unknown fields are kept as
 * they are: the etag makes the write conditional, and a write without the conditions would drop them.
 */
export function planGcpPolicy(input: GcpPolicyPlanInput): GcpPolicyPlan {
  const policy = asGcpPolicy(input.policy);
  assertSubjectsInNamespace(input.grant);
  const format = input.memberFormat ?? { kind: 'service-account' };
  const maxMembers = input.maxMembers ?? GCP_MAX_MEMBERS;
  const bindings = policy.bindings ?? [];
  const index = bindings.findIndex((b) => b.role === WORKLOAD_IDENTITY_USER && b.condition === undefined);
  const current = new Set(bindings[index]?.members ?? []);

  const added: string[] = [];
  const present = new Set<string>();
  for (const { serviceAccount } of input.grant.components) {
    const wanted = gcpMember(input.pool, input.grant.namespace, serviceAccount, format);
    // Both member forms name the same Kubernetes service account; either one already grants it.
    const forms = [gcpMember(input.pool, input.grant.namespace, serviceAccount, { kind: 'service-account' })];
    if (format.projectNumber !== undefined) {
      const principal = { kind: 'principal' as const, projectNumber: format.projectNumber };
      forms.push(gcpMember(input.pool, input.grant.namespace, serviceAccount, principal));
    }
    const found = forms.filter((form) => current.has(form));
    for (const member of found) present.add(member);
    if (found.length === 0) added.push(wanted);
  }
  const presentMembers = [...present].sort();
  if (added.length === 0) return { changed: false, added: [], present: presentMembers, policy };
  added.sort();

  const total = bindings.reduce((sum, binding) => sum + binding.members.length, 0) + added.length;
  if (total > maxMembers) {
    throw new DoesNotFitError(
      `Adding ${added.length} member(s) would give the policy ${total} members; Google allows ${maxMembers} per policy.`,
      {
        size: total,
        limit: maxMembers,
        remedies: [
          'Use another Google service account for some Deployments.',
          'Remove members of Deployments that no longer exist (enable prune).',
        ],
      },
    );
  }
  const existing = bindings[index];
  const nextBindings =
    existing === undefined
      ? [...bindings, { role: WORKLOAD_IDENTITY_USER, members: added }]
      : bindings.map((binding, i) => (i === index ? { ...binding, members: [...binding.members, ...added] } : binding));
  return { changed: true, added, present: presentMembers, policy: { ...policy, bindings: nextBindings } };
}
