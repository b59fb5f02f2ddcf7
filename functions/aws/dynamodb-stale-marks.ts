import { type DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { nextMark, type StaleMarks } from '../../shared/reconcile/stale-marks.ts';
import { toTableError } from './dynamodb-errors.ts';

export const STALE_PREFIX = 'stale#';
/** Marks outlive the longest run of sweeps that still counts (MAX_STALE_GAP_MS) by a day; TTL tidies them. */
const PURGE_AFTER_S = 27 * 3600;

/**
 * The sweep's stale marks as items `stale#<kind>|<target>|<owner>` of the lease table: a consistent GetItem for the
 * run so far, a PutItem for the new sighting. Only the scheduled function sweeps, so only it may touch these items;
 * one sweep runs at a time (the schedule), and a lost update would only restart a run of sightings (keep, not remove).
 */
export function createDynamoStaleMarks(client: DynamoDBClient, table: string): StaleMarks {
  return {
    async observe(keys, now) {
      const since = new Map<string, number>();
      for (const key of keys) {
        const pk = { S: `${STALE_PREFIX}${key}` };
        let previous: { firstSeen: number; lastSeen: number } | undefined;
        try {
          const found = await client.send(new GetItemCommand({ TableName: table, Key: { pk }, ConsistentRead: true }));
          const first = Number(found.Item?.firstSeen?.N);
          const last = Number(found.Item?.lastSeen?.N);
          if (Number.isFinite(first) && Number.isFinite(last)) previous = { firstSeen: first, lastSeen: last };
        } catch (error) {
          throw toTableError(error, table, 'GetItem');
        }
        const mark = nextMark(previous, now);
        try {
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: {
                pk,
                firstSeen: { N: String(mark.firstSeen) },
                lastSeen: { N: String(mark.lastSeen) },
                purgeAt: { N: String(Math.ceil(now / 1000) + PURGE_AFTER_S) },
              },
            }),
          );
        } catch (error) {
          throw toTableError(error, table, 'PutItem');
        }
        since.set(key, mark.firstSeen);
      }
      return since;
    },
  };
}
