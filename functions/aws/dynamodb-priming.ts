import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Settings } from '../common/env-settings.ts';
import { dynamoClientConfig } from './aws-client-config.ts';
import { prime, primingConfig } from './sdk-priming.ts';

/** DynamoDB's request path primed (see sdk-priming.ts): a conditional put, as a lease or a replay record makes. */
export function primeDynamo(settings: Settings): Promise<void> {
  const client = new DynamoDBClient({
    ...dynamoClientConfig(settings),
    ...primingConfig('{}', 'application/x-amz-json-1.0'),
  });
  const item = { pk: { S: 'primed' }, expiresAt: { N: '0' } };
  return prime(client, (c) =>
    c.send(new PutItemCommand({ TableName: 'primed', Item: item, ConditionExpression: 'attribute_not_exists(pk)' })),
  );
}
