import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { ReplayClaim, ReplayRecord } from '../../shared/intake/replay-record.ts';
import { isConditionFailed, toTableError } from './dynamodb-errors.ts';

export interface DynamoReplayOptions {
  /** How long a handled id is remembered (default 10 minutes: twice the signature tolerance, as the ReplayGuard). */
  readonly windowMs?: number;
  /** How long a claim holds before a crashed instance's id may be claimed again (default 30 s; the webhook has 15). */
  readonly claimMs?: number;
  readonly now?: () => number;
}

export const WEBHOOK_PREFIX = 'webhook#';

/**
 * Handled webhook ids as items `webhook#<id>` of the lease table: a conditional PutItem claims an id (absent, expired,
 * or already ours: the SDK's retry of our own put); on a refusal a consistent GetItem tells a handled id (`done`) from
 * one another instance is publishing (`pending`). `purgeAt` lets DynamoDB's TTL delete old items; conditions compare
 * `expiresAt`, because TTL deletes days late.
 */
export function createDynamoReplayRecord(
  client: DynamoDBClient,
  table: string,
  options: DynamoReplayOptions = {},
): ReplayRecord {
  const windowMs = options.windowMs ?? 10 * 60_000;
  const claimMs = options.claimMs ?? 30_000;
  const now = options.now ?? Date.now;
  const item = (pk: string, owner: string, state: 'pending' | 'done', until: number) => ({
    pk: { S: pk },
    owner: { S: owner },
    state: { S: state },
    expiresAt: { N: String(until) },
    purgeAt: { N: String(Math.ceil(until / 1000) + 3600) },
  });

  async function tryClaim(pk: string, owner: string): Promise<boolean> {
    const at = now();
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          Item: item(pk, owner, 'pending', at + claimMs),
          ConditionExpression: 'attribute_not_exists(#pk) OR #expires < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#pk': 'pk', '#expires': 'expiresAt', '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': { N: String(at) }, ':owner': { S: owner } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw toTableError(error, table, 'PutItem');
    }
  }

  return {
    async claim(id): Promise<ReplayClaim> {
      const pk = `${WEBHOOK_PREFIX}${id}`;
      const owner = randomUUID();
      // Twice at most: the holder may release between our refused put and our read.
      for (let attempt = 0; attempt < 2; attempt++) {
        if (await tryClaim(pk, owner)) {
          return {
            state: 'claimed',
            async done() {
              await client
                .send(
                  new PutItemCommand({
                    TableName: table,
                    Item: item(pk, owner, 'done', now() + windowMs),
                    ConditionExpression: '#owner = :owner',
                    ExpressionAttributeNames: { '#owner': 'owner' },
                    ExpressionAttributeValues: { ':owner': { S: owner } },
                  }),
                )
                .catch((error: unknown) => {
                  if (!isConditionFailed(error)) throw toTableError(error, table, 'PutItem');
                });
            },
            async release() {
              await client
                .send(
                  new DeleteItemCommand({
                    TableName: table,
                    Key: { pk: { S: pk } },
                    ConditionExpression: '#owner = :owner',
                    ExpressionAttributeNames: { '#owner': 'owner' },
                    ExpressionAttributeValues: { ':owner': { S: owner } },
                  }),
                )
                .catch(() => undefined); // the claim expires on its own
            },
          };
        }
        let found: Record<string, { S?: string; N?: string }> | undefined;
        try {
          found = (
            await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk } }, ConsistentRead: true }))
          ).Item;
        } catch (error) {
          throw toTableError(error, table, 'GetItem');
        }
        if (found !== undefined && Number(found.expiresAt?.N ?? 0) >= now()) {
          return { state: found.state?.S === 'done' ? 'duplicate' : 'in-flight' };
        }
      }
      return { state: 'in-flight' };
    },
  };
}
