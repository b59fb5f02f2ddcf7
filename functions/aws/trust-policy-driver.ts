import {
  GetAccountSummaryCommand,
  GetRoleCommand,
  type IAMClient,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { TargetError, ValidationError } from '../../shared/errors.ts';
import { ownedNamespacesAws, revokeAwsNamespace } from '../../shared/plan/aws/ownership.ts';
import { parseTrustPolicyText, type TrustPolicyDocument } from '../../shared/plan/aws/policy-document.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { parseRoleArn } from '../../shared/plan/guardrails.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { toIamTargetError } from './iam-errors.ts';

export interface TrustPolicyLimits {
  /** The trust-policy length quota to plan against; resolved once per cold start. */
  maxSize(): Promise<number>;
}

/** Config value, or the account's live quota from GetAccountSummary (read once, then cached). */
export function createTrustPolicyLimits(
  iam: IAMClient,
  options: { configured: number; live: boolean },
): TrustPolicyLimits {
  let cached: Promise<number> | undefined;
  return {
    maxSize() {
      if (!options.live) return Promise.resolve(options.configured);
      cached ??= iam.send(new GetAccountSummaryCommand({})).then(
        (summary) => summary.SummaryMap?.AssumeRolePolicySizeQuota ?? options.configured,
        (error: unknown) => {
          cached = undefined; // a failed lookup is retried on the next event
          throw toIamTargetError(error, 'this account', 'GetAccountSummary');
        },
      );
      return cached;
    },
  };
}

/**
 * The IAM side of one role. IAM has no etag: UpdateAssumeRolePolicy replaces the whole document, so lost updates are
 * caught by reconcileTarget's verify read, not here.
 */
export function createTrustPolicyDriver(
  iam: IAMClient,
  roleArn: string,
  limits: TrustPolicyLimits,
): TargetDriver<TrustPolicyDocument> {
  const { name: roleName } = parseRoleArn(roleArn);
  let maxSize = 0;
  return {
    async read() {
      maxSize = await limits.maxSize();
      let encoded: string | undefined;
      try {
        encoded = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.AssumeRolePolicyDocument;
      } catch (error) {
        throw toIamTargetError(error, roleArn, 'GetRole');
      }
      if (encoded === undefined)
        throw new TargetError(`GetRole returned no trust policy for ${roleArn}`, { retryable: true });
      try {
        // GetRole returns the document URL-encoded (RFC 3986); the SDK leaves that to us.
        return parseTrustPolicyText(encoded, 'AssumeRolePolicyDocument');
      } catch (error) {
        const reason = error instanceof ValidationError ? error.message : String(error);
        throw new TargetError(`the trust policy of ${roleArn} cannot be read: ${reason}`, {
          retryable: false,
          cause: error,
        });
      }
    },
    plan(current, request) {
      if (request.action === 'revoke') {
        const revoke = revokeAwsNamespace(current, request.grant.namespace);
        return { changed: revoke.changed, added: revoke.removed, next: revoke.next };
      }
      if (request.issuer === undefined)
        throw new ValidationError('an OIDC issuer is required for IAM roles', { field: 'issuer' });
      const plan = planAwsTrustPolicy({
        policy: current,
        roleArn,
        issuer: request.issuer,
        grant: request.grant,
        maxSize,
      });
      return { changed: plan.changed, added: plan.added, next: plan.policy };
    },
    owned: (current) => ownedNamespacesAws(current),
    settle: true,
    async write(_current, next) {
      try {
        await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(next) }));
      } catch (error) {
        throw toIamTargetError(error, roleArn, 'UpdateAssumeRolePolicy');
      }
    },
  };
}
