import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Settings } from '../common/env-settings.ts';
import { dynamoClientConfig } from './aws-client-config.ts';

/** The lease table's client; its own module so that lease-table.ts loads the client alone, on first use. */
export function createDynamoClient(settings: Settings): DynamoDBClient {
  return new DynamoDBClient(dynamoClientConfig(settings));
}
