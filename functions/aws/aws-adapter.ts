import { IAMClient } from '@aws-sdk/client-iam';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import { registerKind } from '../../shared/reconcile/target-kind.ts';
import type { CloudAdapter } from '../common/cloud-adapter.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { classifyAwsError } from './aws-errors.ts';
import { IamRetryStrategy } from './iam-retry-strategy.ts';
import { createOidcProviders } from './oidc-providers.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';
import { createTrustPolicyLimits, trustPolicyIo } from './trust-policy-io.ts';

export interface AwsClients {
  readonly iam: IAMClient;
}

/** The AWS side of every function that writes (reconciler, manual, scheduled): IAM roles' trust policies. */
export const awsAdapter: CloudAdapter<AwsClients> = {
  cloud: 'aws',
  // The IAM client's retries skip LimitExceeded, which the SDK takes for throttling (see IamRetryStrategy).
  clients: (settings) => ({
    iam: new IAMClient({ ...awsClientConfig(settings), retryStrategy: new IamRetryStrategy(3) }),
  }),
  secrets: (_clients, settings) => createAwsSecretResolver(settings),
  classify: classifyAwsError,
  close: (clients) => clients.iam.destroy(),
  targets(clients, config) {
    const limits = createTrustPolicyLimits(clients.iam, {
      configured: config.aws.trustPolicyMaxSize,
      live: config.aws.useLiveQuota,
    });
    const providers = createOidcProviders(clients.iam, { create: config.aws.createOidcProviders });
    return [
      registerKind(awsRoleTrustKind, (target) => trustPolicyIo(clients.iam, target.roleArn, limits, providers)),
      registerKind(awsPrincipalTrustKind, (target) => trustPolicyIo(clients.iam, target.roleArn, limits)),
    ];
  },
};
