import { DoesNotFitError, TargetError } from '../../shared/errors.ts';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/**
 * Turns an IAM SDK error into something a platform engineer can act on. For reads the SDK has already retried
 * throttling and 5xx (standard mode); a trust-policy write is never retried by the SDK, and trustPolicyIo turns a
 * retryable answer to it into a re-read (WriteRefusedError).
 */
export function toIamTargetError(
  error: unknown,
  roleArn: string,
  action:
    | 'GetRole'
    | 'UpdateAssumeRolePolicy'
    | 'GetAccountSummary'
    | 'GetOpenIDConnectProvider'
    | 'CreateOpenIDConnectProvider',
): Error {
  const e = (error ?? {}) as SdkError;
  const name = (e.name ?? '').replace(/Exception$/, '');
  const message = e.message ?? String(error);
  const status = e.$metadata?.httpStatusCode ?? 0;
  switch (name) {
    case 'NoSuchEntity':
      return new TargetError(`the role ${roleArn} does not exist (or is in another account than this function)`, {
        retryable: false,
        cause: error,
      });
    case 'AccessDenied':
    case 'AccessDeniedException':
      return new TargetError(
        `this function may not call iam:${action} on ${roleArn}; allow it in the function's policy`,
        {
          retryable: false,
          cause: error,
        },
      );
    case 'MalformedPolicyDocument': {
      const federated = /"FEDERATED"/i.test(message);
      const aws = /"AWS":"([^"]+)"/.exec(message)?.[1];
      return new TargetError(
        !/principal/i.test(message)
          ? `IAM rejected the trust policy of ${roleArn}: ${message}`
          : aws !== undefined && /^AROA/.test(aws)
            ? `IAM rejected the trust policy of ${roleArn}: ${message}. ${aws} is a deleted role's unique id in a statement this tool does not own, and IAM will not save a policy holding it: remove it from that statement; nothing was written.`
            : aws !== undefined
              ? `IAM rejected the trust policy of ${roleArn}: ${message}. The principal ${aws} does not exist (or was deleted): check the Deployment's workload identity in the Astro UI; nothing was written.`
              : `IAM rejected the trust policy of ${roleArn}: ${message}.${federated ? " The cluster's IAM OIDC provider is not registered in this account." : ''} Nothing was written.`,
        {
          retryable: false,
          cause: error,
          ...(federated || aws === undefined
            ? {
                remedies: [
                  'Create the IAM OIDC identity provider for the issuer (audience sts.amazonaws.com), or set aws.createOidcProviders: true.',
                ],
              }
            : {}),
        },
      );
    }
    case 'LimitExceeded': {
      const quota = Number(/quota for ACLSizePerRole: (\d+)/.exec(message)?.[1] ?? 0);
      return new DoesNotFitError(`IAM refused the trust policy: ${message}.`, {
        size: quota + 1,
        limit: quota,
        remedies: [
          `Set aws.trustPolicyMaxSize to ${quota || 'the account quota'} (or aws.useLiveQuota: true) so plans respect it.`,
          'Raise the "Role trust policy length" quota (L-C07B4B0D), or use another role for some Deployments.',
        ],
      });
    }
    default:
      return new TargetError(`iam:${action} on ${roleArn} failed: ${name || 'error'}: ${message}`, {
        retryable: status === 0 || status === 429 || status >= 500 || name === 'Throttling',
        cause: error,
      });
  }
}
