import {
  GetAccountSummaryCommand,
  GetRoleCommand,
  type IAMClient,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { TargetError, ValidationError, WriteRefusedError } from '../../shared/errors.ts';
import { parseTrustPolicyText } from '../../shared/plan/aws/policy-document.ts';
import type { RoleTrust } from '../../shared/plan/aws/role-trust-kind.ts';
import { parseRoleArn } from '../../shared/plan/guardrails.ts';
import type { TargetIo } from '../../shared/reconcile/target-kind.ts';
import { toIamTargetError } from './iam-errors.ts';
import type { OidcProviders } from './oidc-providers.ts';

interface TrustPolicyLimits {
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

/** `Principal.Federated` values of a trust policy: the identity providers it trusts. */
function federatedPrincipals(policy: RoleTrust['policy']): Set<string> {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const out = new Set<string>();
  for (const statement of statements) {
    const principal = (statement as { Principal?: { Federated?: unknown } }).Principal;
    const federated = principal?.Federated;
    for (const value of Array.isArray(federated) ? federated : [federated]) {
      if (typeof value === 'string') out.add(value);
    }
  }
  return out;
}

/** A provider the document already trusted was checked by whoever added it; only new ones are looked up. */
function newProviders(current: RoleTrust, next: RoleTrust): string[] {
  const before = federatedPrincipals(current.policy);
  return [...federatedPrincipals(next.policy)].filter((arn) => !before.has(arn));
}

/**
 * The IAM side of one role: GetRole (the document comes back URL-encoded) with the quota it must fit, and
 * UpdateAssumeRolePolicy, which replaces the whole document. IAM has no etag: lost updates are prevented by the
 * target's lease (reconcileLeased) and caught by reconcileTarget's verify read and settle window, not here.
 *
 * `writer` must not retry: an SDK retry of a throttled UpdateAssumeRolePolicy re-sends, seconds later, a document
 * planned from an old read, after another writer may have written and verified (measured: a grant lost in 12 of 30
 * races). A write that was throttled, failed with 5xx or got no answer is a conflict: re-read, re-plan, write again.
 */
export function trustPolicyIo(
  clients: { readonly iam: IAMClient; readonly writer: IAMClient },
  roleArn: string,
  limits: TrustPolicyLimits,
  providers?: OidcProviders,
): TargetIo<RoleTrust> {
  const { iam, writer } = clients;
  const { name: roleName } = parseRoleArn(roleArn);
  return {
    async read() {
      const quota = await limits.maxSize();
      let encoded: string | undefined;
      try {
        encoded = (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.AssumeRolePolicyDocument;
      } catch (error) {
        throw toIamTargetError(error, roleArn, 'GetRole');
      }
      if (encoded === undefined)
        throw new TargetError(`GetRole returned no trust policy for ${roleArn}`, { retryable: true });
      try {
        return { policy: parseTrustPolicyText(encoded, 'AssumeRolePolicyDocument'), quota };
      } catch (error) {
        const reason = error instanceof ValidationError ? error.message : String(error);
        throw new TargetError(`the trust policy of ${roleArn} cannot be read: ${reason}`, {
          retryable: false,
          cause: error,
        });
      }
    },
    async preview(current, next) {
      const added = newProviders(current, next);
      const notes = providers === undefined || added.length === 0 ? [] : await providers.check(added, roleArn);
      return notes.length === 0 ? undefined : { notes };
    },
    async write(current, next) {
      const added = newProviders(current, next);
      const notes = providers === undefined || added.length === 0 ? [] : await providers.ensure(added, roleArn);
      try {
        await writer.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(next.policy) }),
        );
      } catch (error) {
        // A provider remembered as present was deleted since: the next write must look it up (and create it) again.
        if (/"FEDERATED"/i.test((error as { message?: string } | null)?.message ?? '')) {
          providers?.forget(federatedPrincipals(next.policy));
        }
        const typed = toIamTargetError(error, roleArn, 'UpdateAssumeRolePolicy');
        if (typed instanceof TargetError && typed.retryable) {
          throw new WriteRefusedError(`${typed.message} (the role is read again before any other write)`, {
            cause: error,
          });
        }
        throw typed;
      }
      return notes.length === 0 ? undefined : { notes };
    },
  };
}
