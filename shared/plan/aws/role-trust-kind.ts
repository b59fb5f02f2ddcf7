import { DoesNotFitError } from '../../errors.ts';
import type { TargetKind } from '../../reconcile/target-kind.ts';
import { ownedNamespacesAws, revokeAwsNamespace } from './ownership.ts';
import { policySize, type TrustPolicyDocument } from './policy-document.ts';
import { planAwsTrustPolicy } from './trust-policy-planner.ts';

/**
 * An IAM role's trust policy as the reconciler sees it: the document and the length quota it must fit, both read
 * from the account (the quota may be the live `AssumeRolePolicySizeQuota`), so a plan never needs a second lookup.
 */
export interface RoleTrust {
  readonly policy: TrustPolicyDocument;
  readonly quota: number;
}

/** IRSA subjects in the role's trust policy; IAM has no etag, so writes settle (see TargetKind.settle). */
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
    return {
      changed: plan.changed,
      added: plan.added,
      present: plan.present,
      next: { ...current, policy: plan.policy },
    };
  },
  revoke(current, namespace) {
    const plan = revokeAwsNamespace(current.policy, namespace);
    return { changed: plan.changed, removed: plan.removed, next: { ...current, policy: plan.next } };
  },
  owned: (current) => ownedNamespacesAws(current.policy),
};
