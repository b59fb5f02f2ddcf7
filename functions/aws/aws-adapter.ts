import { IAMClient } from '@aws-sdk/client-iam';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import { registerKind } from '../../shared/reconcile/target-kind.ts';
import type { CloudAdapter } from '../common/cloud-adapter.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { classifyAwsError } from './aws-errors.ts';
import { IamRetryStrategy } from './iam-retry-strategy.ts';
import { type LeaseTable, leaseTable, loading, onFirstUse, warmUse } from './lease-table.ts';
import { createOidcProviders } from './oidc-providers.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';
import { createTrustPolicyLimits, trustPolicyIo } from './trust-policy-io.ts';

export interface AwsClients {
  /** Reads, and writes that are safe to retry (an OIDC provider): the SDK's standard retries. */
  readonly iam: IAMClient;
  /** UpdateAssumeRolePolicy only, with no SDK retry (see trustPolicyIo). */
  readonly iamWriter: IAMClient;
  /** The per-role write lease, when ASTRO_IDENTITY_SYNC_LEASE_TABLE names its table. */
  readonly lease: LeaseTable | undefined;
}

/** Both kinds write a role's one trust policy, so they share its lease. */
const roleLeaseKey = (target: { roleArn: string }) => `role#${target.roleArn}`;

/** The AWS side of every function that writes (reconciler, manual, scheduled): IAM roles' trust policies. */
export const awsAdapter: CloudAdapter<AwsClients> = {
  cloud: 'aws',
  // The IAM client's retries skip LimitExceeded, which the SDK takes for throttling (see IamRetryStrategy).
  clients: (settings) => {
    const table = settings.aws.leaseTable;
    return {
      iam: new IAMClient({ ...awsClientConfig(settings), retryStrategy: new IamRetryStrategy(3) }),
      iamWriter: new IAMClient({ ...awsClientConfig(settings), maxAttempts: 1 }),
      lease: table === undefined ? undefined : leaseTable(settings, table),
    };
  },
  secrets: (_clients, settings) => createAwsSecretResolver(settings),
  classify: classifyAwsError,
  close: (clients) => {
    clients.iam.destroy();
    clients.iamWriter.destroy();
    clients.lease?.destroy();
  },
  // Every event reads a role and every write takes the role's lease: IAM's request path primed (see sdk-priming.ts),
  // and the table's client and the lease's code loaded, ahead of the first event.
  warm: async (clients, settings) => {
    await Promise.all([
      import('./iam-priming.ts').then(({ primeIam }) => primeIam(settings)),
      warmUse(clients.lease, () => import('./dynamodb-lease.ts')),
    ]);
  },
  coldStartWarnings: (clients) =>
    clients.lease === undefined
      ? [
          'ASTRO_IDENTITY_SYNC_LEASE_TABLE is not set: writes to a role from different functions (and sync --apply) are not serialized, and IAM has no etag; a concurrent write can still lose a grant until the next sweep',
        ]
      : [],
  targets(clients, config) {
    const limits = createTrustPolicyLimits(clients.iam, {
      configured: config.aws.trustPolicyMaxSize,
      live: config.aws.useLiveQuota,
    });
    const providers = createOidcProviders(clients.iam, { create: config.aws.createOidcProviders });
    const io = { iam: clients.iam, writer: clients.iamWriter };
    const table = clients.lease;
    const open =
      table &&
      onFirstUse(table, async (client, name) =>
        (await loading(name, import('./dynamodb-lease.ts'))).createDynamoLease(client, name),
      );
    const lease = open && { lease: { acquire: async (key: string) => (await open()).acquire(key) }, key: roleLeaseKey };
    return [
      registerKind(awsRoleTrustKind, (target) => trustPolicyIo(io, target.roleArn, limits, providers), lease),
      registerKind(awsPrincipalTrustKind, (target) => trustPolicyIo(io, target.roleArn, limits), lease),
    ];
  },
};
