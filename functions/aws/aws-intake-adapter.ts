import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IntakeAdapter } from '../common/cloud-adapter.ts';
import { awsClientConfig } from './aws-client-config.ts';
import { classifyAwsError } from './aws-errors.ts';
import { type LeaseTable, leaseTable, loading, onFirstUse, warmUse } from './lease-table.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';

export interface AwsIntakeClients {
  readonly events: EventBridgeClient;
  /** The replay record's table, when ASTRO_IDENTITY_SYNC_LEASE_TABLE names it. */
  readonly replays: LeaseTable | undefined;
}

/**
 * The webhook function's adapter: it verifies, records the webhook-id and publishes, nothing else, so it carries no
 * IAM client, no Slack and no Astro client.
 */
export const awsIntakeAdapter: IntakeAdapter<AwsIntakeClients> = {
  cloud: 'aws',
  clients: (settings) => {
    const table = settings.aws.leaseTable;
    return {
      events: new EventBridgeClient(awsClientConfig(settings)),
      replays: table === undefined ? undefined : leaseTable(settings, table),
    };
  },
  secrets: (_clients, settings) => createAwsSecretResolver(settings),
  classify: classifyAwsError,
  close: (clients) => {
    clients.events.destroy();
    clients.replays?.destroy();
  },
  replayRecord: (clients) => {
    const { replays } = clients;
    if (replays === undefined) return undefined;
    const record = onFirstUse(replays, async (client, table) =>
      (await loading(table, import('./dynamodb-replay-record.ts'))).createDynamoReplayRecord(client, table),
    );
    return { claim: async (id) => (await record()).claim(id) };
  },
  // Every accepted webhook is published, and every recorded one claims its id first: the SDK's request path primed,
  // and the record's client and code loaded, ahead of the first one. Only the init phase primes (see init-phase.ts),
  // so the priming code is a chunk of its own.
  warm: async (clients, settings) => {
    await Promise.all([
      import('./eventbridge-priming.ts').then(({ primeEventBridge }) => primeEventBridge(settings)),
      warmUse(clients.replays, () => import('./dynamodb-replay-record.ts')),
    ]);
  },
  coldStartWarnings: (clients) =>
    clients.replays === undefined
      ? [
          'ASTRO_IDENTITY_SYNC_LEASE_TABLE is not set: a replayed webhook-id is recognized only by the instance that handled it',
        ]
      : [],
};
