import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/** The table name the Terraform module (infra/aws) gives with the default name_prefix. */
export const LOCAL_LEASE_TABLE = 'astro-identity-sync-leases';

export interface LocalDynamo {
  /** http://127.0.0.1:<port>: the endpoint for a DynamoDB client (dummy credentials). */
  readonly url: string;
  readonly table: string;
  /** The operations received, in order (`PutItem`, `UpdateItem`, ...), for tests that count them. */
  readonly calls: string[];
  /** A client on it, for tests that look at or tamper with the items. */
  client(): DynamoDBClient;
  close(): Promise<void>;
}

/**
 * dynalite (DynamoDB on LevelDB, in memory) on a random port, with the lease table created as infra/aws defines it:
 * hash key `pk` (S), on demand. The TTL attribute (`purgeAt`) only tidies in AWS; nothing here depends on it.
 */
export async function startLocalDynamo(options: { table?: string } = {}): Promise<LocalDynamo> {
  const table = options.table ?? LOCAL_LEASE_TABLE;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const calls: string[] = [];
  server.on('request', (request: IncomingMessage) => {
    const target = request.headers['x-amz-target'];
    if (typeof target === 'string') calls.push(target.slice(target.indexOf('.') + 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clients: DynamoDBClient[] = [];
  const client = () => {
    const created = new DynamoDBClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    clients.push(created);
    return created;
  };
  await client().send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
  calls.length = 0;
  return {
    url,
    table,
    calls,
    client,
    async close() {
      for (const c of clients) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
