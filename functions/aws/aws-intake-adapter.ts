import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IntakeAdapter } from '../common/cloud-adapter.ts';
import { awsClientConfig, dynamoClientConfig } from './aws-client-config.ts';
import { classifyAwsError } from './aws-errors.ts';
import { createDynamoReplayRecord } from './dynamodb-replay-record.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';

export interface AwsIntakeClients {
  readonly events: EventBridgeClient;
  /** The replay record's table, when ASTRO_IDENTITY_SYNC_LEASE_TABLE names it. */
  readonly replays: { readonly client: DynamoDBClient; readonly table: string } | undefined;
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
      replays: table === undefined ? undefined : { client: new DynamoDBClient(dynamoClientConfig(settings)), table },
    };
  },
  secrets: (_clients, settings) => createAwsSecretResolver(settings),
  classify: classifyAwsError,
  close: (clients) => {
    clients.events.destroy();
    clients.replays?.client.destroy();
  },
  replayRecord: (clients) =>
    clients.replays === undefined ? undefined : createDynamoReplayRecord(clients.replays.client, clients.replays.table),
  coldStartWarnings: (clients) =>
    clients.replays === undefined
      ? [
          'ASTRO_IDENTITY_SYNC_LEASE_TABLE is not set: a replayed webhook-id is recognized only by the instance that handled it',
        ]
      : [],
};
