import type { TrustPolicyDocument } from '../shared/plan/aws/policy-document.ts';
import { trustPolicyUsage } from '../shared/plan/aws/role-trust-kind.ts';
import { DEFAULT_TRUST_POLICY_MAX_SIZE } from '../shared/plan/aws/trust-policy-planner.ts';
import { AZURE_MAX_CREDENTIALS } from '../shared/plan/azure/credentials-planner.ts';
import type { GcpPolicy } from '../shared/plan/gcp/policy-planner.ts';
import { gcpPolicyUsage } from '../shared/plan/gcp/policy-planner.ts';
import { formatUsage } from '../shared/report/capacity.ts';
import type { TargetUsage } from '../shared/report/outcome.ts';

/**
 * The capacity line `npm start` prints under each target: the same count the reconciler reports after its read (the
 * kinds' `usage`), over the document the emulator now holds, with the local stack's limits (the defaults).
 */
function show(what: string, usage: TargetUsage): void {
  console.log(`  capacity: ${what} ${formatUsage(usage)}`);
}

export function showRoleCapacity(roleName: string, policy: unknown): void {
  const usage = trustPolicyUsage({ policy: policy as TrustPolicyDocument, quota: DEFAULT_TRUST_POLICY_MAX_SIZE });
  show(`role ${roleName}`, usage);
}

export function showPolicyCapacity(what: string, policy: unknown): void {
  show(what, gcpPolicyUsage(policy as GcpPolicy));
}

export function showIdentityCapacity(identity: string, credentials: readonly unknown[]): void {
  show(`identity ${identity}`, { used: credentials.length, limit: AZURE_MAX_CREDENTIALS, unit: 'credentials' });
}

/** The capacity the function itself reported, per target of its answer (the GCP and Azure HTTP routes answer results). */
export function showReportedCapacity(results: readonly { target?: string; usage?: TargetUsage }[] | undefined): void {
  for (const result of results ?? []) {
    if (result.usage !== undefined) show(`${result.target ?? 'target'} (as the function reported it)`, result.usage);
  }
}
