import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TargetError } from '../../shared/errors.ts';
import type { Settings } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';

/**
 * The lease table (ASTRO_IDENTITY_SYNC_LEASE_TABLE) of the write leases, the webhook replay records and the stale
 * marks, with its DynamoDB client (about 45 KiB minified with its marshalling and endpoint discovery) loaded and
 * created by the first call that needs it, not at module load: a cold start whose first request is refused before
 * it is recorded (a wrong method, a bad signature) never evaluates it. Each use loads its own module on first use
 * too (see `onFirstUse`), so a function's bundle and role hold only the uses it makes.
 */
export interface LeaseTable {
  readonly table: string;
  client(): Promise<DynamoDBClient>;
  /** Creates the client and primes DynamoDB's request path (see sdk-priming.ts), ahead of the first call. */
  warm(): Promise<void>;
  destroy(): void;
}

export function leaseTable(settings: Settings, table: string): LeaseTable {
  let created: DynamoDBClient | undefined;
  let destroyed = false;
  const client = coldStart(async () => {
    const { createDynamoClient } = await loading(table, import('./dynamodb-client.ts'));
    created = createDynamoClient(settings);
    if (destroyed) created.destroy();
    return created;
  });
  return {
    table,
    client,
    warm: async () => {
      const [{ primeDynamo }] = await Promise.all([loading(table, import('./dynamodb-priming.ts')), client()]);
      await primeDynamo(settings);
    },
    destroy() {
      destroyed = true;
      created?.destroy();
    },
  };
}

/**
 * One use of the table, opened on its first call and kept; a failed open (the client's code could not be loaded) is
 * forgotten, so the next call tries again.
 */
export function onFirstUse<T>(table: LeaseTable, open: (client: DynamoDBClient, name: string) => Promise<T>) {
  return coldStart(async () => open(await table.client(), table.table));
}

/** The table's client made and primed, and one use's code loaded, ahead of its first call (IntakeAdapter.warm). */
export async function warmUse(table: LeaseTable | undefined, code: () => Promise<unknown>): Promise<void> {
  if (table !== undefined) await Promise.all([table.warm(), loading(table.table, code())]);
}

/** A bundle chunk that does not load is a broken deployment, not a client mistake: retryable, like an outage. */
export async function loading<T>(table: string, module: Promise<T>): Promise<T> {
  try {
    return await module;
  } catch (cause) {
    throw new TargetError(`cannot load the DynamoDB code of the lease table ${table}`, { retryable: true, cause });
  }
}
