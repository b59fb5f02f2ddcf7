import { randomUUID } from 'node:crypto';
import { DeleteItemCommand, type DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { LeaseChangedError, TargetError } from '../../shared/errors.ts';
import type { LeaseHold, TargetLease } from '../../shared/reconcile/target-lease.ts';
import { isConditionFailed, toTableError } from './dynamodb-errors.ts';

export interface DynamoLeaseOptions {
  /** How long a lease lasts unless renewed by a fence (default 15 s: a read, a write, a verify and a settle wait). */
  readonly ttlMs?: number;
  /** How long `acquire` waits for another holder before giving up (default 60 s; the manual function has 120 s). */
  readonly waitMs?: number;
  /** First pause between attempts to take a held lease, doubled up to 8x, with full jitter (default 25 ms). */
  readonly pollMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** The item of a lease: `pk` is the table's hash key; `purgeAt` (epoch seconds) the table's TTL attribute. */
export const LEASE_PREFIX = 'lease#';
/** DynamoDB deletes expired items within days, not at once: conditions compare `expiresAt` (ms), TTL only tidies. */
const PURGE_AFTER_S = 24 * 3600;

const NAMES = { '#pk': 'pk', '#owner': 'owner', '#expires': 'expiresAt' };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A lease per target in a DynamoDB table: a conditional PutItem takes it (free, expired, or already ours, so the
 * SDK's retry of our own put succeeds), a conditional UpdateItem right before each write checks it is still ours and
 * unexpired and extends it (the fence), a conditional DeleteItem releases it. Every call is a single-item conditional
 * write, so the SDK's retries of these are safe; the expiry is compared on the writers' clocks (Lambda's are NTP-synced;
 * the 15 s lease dwarfs their skew).
 */
export function createDynamoLease(
  client: DynamoDBClient,
  table: string,
  options: DynamoLeaseOptions = {},
): TargetLease {
  const ttlMs = options.ttlMs ?? 15_000;
  const waitMs = options.waitMs ?? 60_000;
  const pollMs = options.pollMs ?? 25;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const expiry = (at: number) => ({
    expiresAt: { N: String(at + ttlMs) },
    purgeAt: { N: String(Math.ceil((at + ttlMs) / 1000) + PURGE_AFTER_S) },
  });

  function hold(key: string, owner: string): LeaseHold {
    const pk = { S: `${LEASE_PREFIX}${key}` };
    return {
      async fence() {
        const at = now();
        const next = expiry(at);
        try {
          await client.send(
            new UpdateItemCommand({
              TableName: table,
              Key: { pk },
              UpdateExpression: 'SET #expires = :expires, purgeAt = :purge',
              ConditionExpression: '#owner = :owner AND #expires > :now',
              ExpressionAttributeNames: { '#owner': 'owner', '#expires': 'expiresAt' },
              ExpressionAttributeValues: {
                ':owner': { S: owner },
                ':now': { N: String(at) },
                ':expires': next.expiresAt,
                ':purge': next.purgeAt,
              },
            }),
          );
        } catch (error) {
          if (isConditionFailed(error)) {
            throw new LeaseChangedError(`the lease on ${key} expired or was taken by another writer: nothing written`);
          }
          throw toTableError(error, table, 'UpdateItem');
        }
      },
      async release() {
        try {
          await client.send(
            new DeleteItemCommand({
              TableName: table,
              Key: { pk },
              ConditionExpression: '#owner = :owner',
              ExpressionAttributeNames: { '#owner': 'owner' },
              ExpressionAttributeValues: { ':owner': { S: owner } },
            }),
          );
        } catch {
          // Not ours any more, or the table did not answer: the lease expires on its own.
        }
      },
    };
  }

  return {
    async acquire(key) {
      const owner = randomUUID();
      const started = now();
      for (let attempt = 0; ; attempt++) {
        const at = now();
        try {
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: { pk: { S: `${LEASE_PREFIX}${key}` }, owner: { S: owner }, ...expiry(at) },
              ConditionExpression: 'attribute_not_exists(#pk) OR #expires < :now OR #owner = :owner',
              ExpressionAttributeNames: NAMES,
              ExpressionAttributeValues: { ':now': { N: String(at) }, ':owner': { S: owner } },
            }),
          );
          return hold(key, owner);
        } catch (error) {
          if (!isConditionFailed(error)) throw toTableError(error, table, 'PutItem');
        }
        if (now() - started >= waitMs) {
          throw new TargetError(
            `another writer has held the lease on ${key} for over ${Math.round(waitMs / 1000)} s (table ${table}): nothing was written; retry`,
            { retryable: true },
          );
        }
        await sleep(Math.round(random() * pollMs * 2 ** Math.min(attempt, 3)));
      }
    },
  };
}
