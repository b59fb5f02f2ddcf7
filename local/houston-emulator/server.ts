import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, GraphQLError, graphql } from 'graphql';

/**
 * A loopback stand-in for Houston, Astronomer Software's GraphQL API, served by graphql-js itself so queries are
 * parsed and validated as a real GraphQL server does (an unknown field answers `Cannot query field "x" on type
 * "Deployment".`). Auth as Houston: the raw token in `authorization`, no `Bearer`; a refused token answers 200 with
 * an UNAUTHENTICATED error, as Apollo does. `version` shapes the schema: before 0.32 there is no
 * `paginatedDeployments`, before 1.0 no `clusterId`, and `namespaceInList: false` leaves `namespace` out of lists
 * (unconfirmed per version, so both are emulated). Cursor paging is Prisma's: the page after the cursor's row.
 */

export interface HoustonEmulatorOptions {
  port?: number;
  token?: string;
  /** Default '1.0.0'. */
  version?: string;
  /** Whether Deployment lists carry `namespace` (default true). */
  namespaceInList?: boolean;
  /** Prisma without `skip: 1` repeats the cursor's row at the top of the next page (default false). */
  cursorInclusive?: boolean;
}

export interface HoustonFaults {
  latencyMs?: number;
  /** The next N requests answer HTTP `status` (default 503). */
  failNext?: number;
  status?: 429 | 500 | 502 | 503;
  /** The next N requests answer 200 with an INTERNAL_SERVER_ERROR GraphQL error. */
  graphqlErrorNext?: number;
}

export interface HoustonRequest {
  readonly authorization: string | undefined;
  readonly query: string;
  readonly variables: Record<string, unknown>;
  readonly status: number;
}

export interface HoustonEmulator {
  /** The GraphQL endpoint: http://127.0.0.1:<port>/v1 */
  readonly url: string;
  readonly token: string;
  upsert(deployment: Record<string, unknown>): void;
  remove(id: string): void;
  readonly requests: ReadonlyArray<HoustonRequest>;
  setFaults(faults: HoustonFaults): void;
  close(): Promise<void>;
}

function atLeast(version: string, wanted: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = wanted.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

function schemaFor(version: string, namespaceInList: boolean) {
  const fields = [
    'id: Uuid!',
    'label: String!',
    'releaseName: String!',
    'type: String',
    'version: String',
    'workspace: Workspace',
    'runtimeVersion: String',
    'createdAt: String',
    'updatedAt: String',
    ...(namespaceInList ? ['namespace: String'] : []),
    ...(atLeast(version, '1.0') ? ['clusterId: String'] : ['airflowVersion: String']),
  ];
  const list = atLeast(version, '0.32')
    ? 'paginatedDeployments(take: Int, cursor: Uuid, pageNumber: Int, name: String): [Deployment]'
    : '';
  return buildSchema(`scalar Uuid
type Workspace { id: Uuid! label: String }
type Deployment { ${fields.join(' ')} }
type AppConfig { version: String! baseDomain: String smtpConfigured: Boolean maxDeployments: Int }
type Query { appConfig: AppConfig workspaceDeployments(workspaceUuid: Uuid!, releaseName: String): [Deployment] ${list} }`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startHoustonEmulator(options: HoustonEmulatorOptions = {}): Promise<HoustonEmulator> {
  const token = options.token ?? 'houston-local-token';
  const version = options.version ?? '1.0.0';
  const schema = schemaFor(version, options.namespaceInList ?? true);
  const deployments = new Map<string, Record<string, unknown>>();
  const requests: HoustonRequest[] = [];
  let faults: HoustonFaults = {};

  const ordered = () => [...deployments.values()].sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const rootValue = {
    appConfig: () => ({ version, baseDomain: 'local.astronomer.test', smtpConfigured: false, maxDeployments: 1000 }),
    paginatedDeployments: (args: { take?: number; cursor?: string }) => {
      const all = ordered();
      const take = Math.min(Math.max(args.take ?? 20, 1), 1000);
      let start = 0;
      if (args.cursor !== undefined) {
        const at = all.findIndex((d) => d.id === args.cursor);
        if (at < 0)
          throw new GraphQLError('Deployment not found for cursor', { extensions: { code: 'BAD_USER_INPUT' } });
        start = options.cursorInclusive ? at : at + 1;
      }
      return all.slice(start, start + take);
    },
    workspaceDeployments: (args: { workspaceUuid: string; releaseName?: string }) =>
      ordered().filter(
        (d) =>
          (d.workspace as { id?: string } | undefined)?.id === args.workspaceUuid &&
          (args.releaseName === undefined || d.releaseName === args.releaseName),
      ),
  };

  async function answer(
    req: IncomingMessage,
  ): Promise<{ status: number; body: unknown; query: string; vars: Record<string, unknown> }> {
    const text = await readBody(req);
    if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://x').pathname !== '/v1') {
      return { status: 404, body: { message: 'Not Found' }, query: '', vars: {} };
    }
    let request: { query?: unknown; variables?: unknown };
    try {
      request = JSON.parse(text) as typeof request;
    } catch {
      return { status: 400, body: { errors: [{ message: 'POST body sent invalid JSON.' }] }, query: '', vars: {} };
    }
    const query = typeof request.query === 'string' ? request.query : '';
    const vars = (request.variables ?? {}) as Record<string, unknown>;
    if ((faults.failNext ?? 0) > 0) {
      faults = { ...faults, failNext: (faults.failNext ?? 1) - 1 };
      return { status: faults.status ?? 503, body: { message: 'Service Unavailable' }, query, vars };
    }
    if ((faults.graphqlErrorNext ?? 0) > 0) {
      faults = { ...faults, graphqlErrorNext: (faults.graphqlErrorNext ?? 1) - 1 };
      const errors = [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }];
      return { status: 200, body: { data: null, errors }, query, vars };
    }
    if (req.headers.authorization !== token) {
      const errors = [{ message: 'You must be authenticated', extensions: { code: 'UNAUTHENTICATED' } }];
      return { status: 200, body: { data: null, errors }, query, vars };
    }
    const result = await graphql({ schema, source: query, rootValue, variableValues: vars });
    // Apollo answers 400 for a query that does not validate, 200 otherwise (errors in the body either way).
    const invalid = result.data === undefined && (result.errors?.length ?? 0) > 0;
    const errors = result.errors?.map((e) => ({
      message: e.message,
      extensions: {
        code: invalid ? 'GRAPHQL_VALIDATION_FAILED' : ((e.extensions?.code as string) ?? 'INTERNAL_SERVER_ERROR'),
      },
    }));
    return {
      status: invalid ? 400 : 200,
      body: { data: result.data ?? null, ...(errors ? { errors } : {}) },
      query,
      vars,
    };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const authorization = req.headers.authorization;
    void answer(req).then(async (reply) => {
      if (faults.latencyMs) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
      requests.push({ authorization, query: reply.query, variables: reply.vars, status: reply.status });
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    token,
    upsert(deployment) {
      const now = new Date().toISOString();
      deployments.set(String(deployment.id), { createdAt: now, updatedAt: now, ...deployment });
    },
    remove: (id) => {
      deployments.delete(id);
    },
    requests,
    setFaults(next) {
      faults = { ...next };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
