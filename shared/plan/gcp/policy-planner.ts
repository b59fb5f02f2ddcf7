import { DoesNotFitError, ValidationError } from '../../errors.ts';
import { isJsonObject, type JsonObject } from '../aws/policy-document.ts';
import { assertProjectNumber, assertWorkloadIdentityPool } from '../guardrails.ts';
import { assertSubjectsInNamespace, type DesiredGrant } from '../subjects.ts';

export const WORKLOAD_IDENTITY_USER = 'roles/iam.workloadIdentityUser';
export const GCP_MAX_MEMBERS = 1500;

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

export interface GcpPolicyPlanInput {
  readonly policy: unknown;
  readonly grant: DesiredGrant;
  /** `<gke-project-id>.svc.id.goog` */
  readonly pool: string;
  readonly memberFormat?: GcpMemberFormat;
  readonly maxMembers?: number;
}

export interface GcpPolicyPlan {
  readonly changed: boolean;
  readonly added: readonly string[];
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

export function asGcpPolicy(value: unknown, field = 'policy'): GcpPolicy {
  if (!isJsonObject(value)) throw new ValidationError('an IAM policy must be a JSON object', { field });
  const { bindings } = value;
  if (bindings === undefined) return value as GcpPolicy;
  if (!Array.isArray(bindings))
    throw new ValidationError('"bindings" must be an array', { field: `${field}.bindings` });
  bindings.forEach((binding, index) => {
    const ok =
      isJsonObject(binding) &&
      typeof binding.role === 'string' &&
      Array.isArray(binding.members) &&
      binding.members.every((member) => typeof member === 'string') &&
      (binding.condition === undefined || isJsonObject(binding.condition));
    if (!ok) {
      throw new ValidationError('each binding needs "role" (string) and "members" (array of strings)', {
        field: `${field}.bindings.${index}`,
      });
    }
  });
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
  for (const { serviceAccount } of input.grant.components) {
    const wanted = gcpMember(input.pool, input.grant.namespace, serviceAccount, format);
    // Both member forms name the same Kubernetes service account; either one already grants it.
    const forms = [gcpMember(input.pool, input.grant.namespace, serviceAccount, { kind: 'service-account' })];
    if (format.projectNumber !== undefined) {
      const principal = { kind: 'principal' as const, projectNumber: format.projectNumber };
      forms.push(gcpMember(input.pool, input.grant.namespace, serviceAccount, principal));
    }
    if (!forms.some((form) => current.has(form))) added.push(wanted);
  }
  if (added.length === 0) return { changed: false, added: [], policy };
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
  return { changed: true, added, policy: { ...policy, bindings: nextBindings } };
}
