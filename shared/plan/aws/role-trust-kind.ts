import { DoesNotFitError } from '../../errors.ts';
import type { TargetKind } from '../../reconcile/target-kind.ts';
import type { TargetUsage } from '../../report/outcome.ts';
import { foreignSubjectsAws, ownedNamespacesAws, revokeAwsNamespace } from './ownership.ts';
import { policySize, type TrustPolicyDocument } from './policy-document.ts';
import { droppedNotes, withoutDeletedRoles } from './principal-trust-planner.ts';
import { blockedFinding, editedWarnings } from './trust-findings.ts';
import { planAwsTrustPolicy } from './trust-policy-planner.ts';

/**
 * An IAM role's trust policy as the reconciler sees it: the document and the length quota it must fit, both read
 * from the account (the quota may be the live `AssumeRolePolicySizeQuota`), so a plan never needs a second lookup.
 */
export interface RoleTrust {
  readonly policy: TrustPolicyDocument;
  readonly quota: number;
}

/** IAM compares the minified length with the quota: the same figure the planners refuse a grant by. */
export function trustPolicyUsage(current: RoleTrust): TargetUsage {
  return { used: policySize(current.policy), limit: current.quota, unit: 'characters' };
}

/**
 * IRSA subjects in the role's trust policy; IAM has no etag, so writes settle (see TargetKind.settle). A write also
 * drops deleted roles' ids from the principal kind's statement, which shares the document: IAM would refuse it.
 */
export const awsRoleTrustKind: TargetKind<'aws-role', RoleTrust> = {
  kind: 'aws-role',
  needs: 'issuer',
  owner: 'namespace',
  settle: true,
  grant(current, { target, grant, issuer, dr }) {
    let plan: ReturnType<typeof planAwsTrustPolicy>;
    try {
      plan = planAwsTrustPolicy({
        policy: current.policy,
        roleArn: target.roleArn,
        issuer: issuer ?? '',
        grant,
        maxSize: current.quota,
      });
    } catch (error) {
      // The DR part is planned on top of the primary one: say what the secondary cluster costs on its own.
      if (!dr || !(error instanceof DoesNotFitError)) throw error;
      const base = policySize(current.policy);
      throw new DoesNotFitError(
        `${error.summary} The disaster-recovery cluster's statement adds ${error.size - base} characters to the ${base} the policy has with the primary grant.`,
        { size: error.size, limit: error.limit, remedies: error.remedies },
      );
    }
    const cleaned = plan.changed ? withoutDeletedRoles(plan.policy) : { policy: plan.policy, dropped: [] };
    return {
      changed: plan.changed,
      added: plan.added,
      present: plan.present,
      next: { ...current, policy: cleaned.policy },
      ...droppedNotes(cleaned.dropped),
      ...blockedFinding(
        plan.blocked.map(({ subject, ...verdict }) => ({ entry: subject, ...verdict })),
        'subject',
      ),
      ...editedWarnings(plan.edited),
    };
  },
  revoke(current, namespace) {
    const plan = revokeAwsNamespace(current.policy, namespace);
    const cleaned = plan.changed ? withoutDeletedRoles(plan.next) : { policy: plan.next, dropped: [] };
    return {
      changed: plan.changed,
      removed: plan.removed,
      next: { ...current, policy: cleaned.policy },
      ...droppedNotes(cleaned.dropped),
    };
  },
  owned: (current) => ownedNamespacesAws(current.policy),
  usage: trustPolicyUsage,
  foreign: (current) => foreignSubjectsAws(current.policy),
};
