import * as z from 'zod/mini';
import { IdentitySyncError } from '../errors.ts';
import '../zod-english.ts';
import { toValidationError } from '../zod-error.ts';

/**
 * The pure part of the Houston (Astronomer Software) GraphQL client: the queries, response parsing and error
 * classification. Houston speaks GraphQL over `POST https://houston.<base domain>/v1` with the API token in the
 * `authorization` header, no `Bearer` (the shapes follow astronomer/astro-cli's `houston/` package).
 */

/** `paginatedDeployments` arrived in Houston 0.32; `clusterId` in 1.0, when `airflowVersion` was dropped. */
export const PAGINATED_SINCE = '0.32';

/**
 * One page of the Deployments the token can see, by cursor (the last id of the page before). `namespace` is asked
 * for separately (see NAMESPACE_FIELD): not every Houston answers it in a list.
 */
export function listQuery(fields: HoustonFields): string {
  const optional = (Object.keys(fields) as Array<keyof HoustonFields>).filter((field) => fields[field]);
  return `query paginatedDeployments($take: Int, $cursor: Uuid) {
  paginatedDeployments(take: $take, cursor: $cursor) {
    id label releaseName ${optional.join(' ')}
    workspace { id label }
    runtimeVersion createdAt updatedAt
  }
}`;
}

/** Fields some Houston versions lack: each is asked for until this Houston says it does not know it. */
export interface HoustonFields {
  namespace: boolean;
  clusterId: boolean;
  airflowVersion: boolean;
}

export const HOUSTON_FIELDS: Readonly<HoustonFields> = { namespace: true, clusterId: true, airflowVersion: true };

/** `null` and absent both read as absent. */
const optional = z.pipe(
  z.nullish(z.string()),
  z.transform((value: string | null | undefined) => value ?? undefined),
);

/** A Software Deployment as Houston lists it; unknown fields are dropped. */
export const houstonDeploymentSchema = z.object({
  id: z.string().check(z.minLength(1), z.maxLength(64)),
  label: z.string().check(z.minLength(1), z.maxLength(256)),
  releaseName: z.string().check(z.minLength(1), z.maxLength(53)),
  namespace: optional,
  clusterId: optional,
  workspace: z.pipe(
    z.nullish(z.object({ id: z.string().check(z.minLength(1)), label: optional })),
    z.transform((value) => value ?? undefined),
  ),
  runtimeVersion: optional,
  airflowVersion: optional,
  createdAt: optional,
  updatedAt: optional,
});

export type HoustonDeployment = z.output<typeof houstonDeploymentSchema>;

/** A failed Houston call; `retryable` says whether the same call may succeed later. */
export class HoustonApiError extends IdentitySyncError {
  override name = 'HoustonApiError';
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super('astro_api', message, options);
  }
}

const graphqlErrorSchema = z.object({
  message: z.string(),
  extensions: z.optional(z.object({ code: z.optional(z.string()) })),
});
const envelopeSchema = z.object({
  data: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  errors: z.optional(z.array(graphqlErrorSchema)),
});

/** What a person does about a GraphQL error, by Houston's code or message. */
export function houstonErrorOf(
  errors: ReadonlyArray<{ message: string; extensions?: { code?: string | undefined } | undefined }>,
) {
  // A query that does not validate answers one error per problem; the unknown field is the one to explain.
  const first = errors.find((error) => /Cannot query field/.test(error.message)) ?? errors[0];
  const message = (first?.message ?? 'unknown error').slice(0, 300);
  const code = first?.extensions?.code ?? '';
  if (code === 'UNAUTHENTICATED' || /authenticat|token/i.test(message)) {
    return new HoustonApiError(
      `Houston refused the API token (${message}): create a System or Workspace service account token and set software.token`,
      { retryable: false },
    );
  }
  if (code === 'FORBIDDEN' || /permission|not authorized|forbidden/i.test(message)) {
    return new HoustonApiError(
      `Houston refused the query (${message}): the token's service account needs a role that can list Deployments (System Viewer, or Workspace Viewer on each workspace)`,
      { retryable: false },
    );
  }
  const unknownField = /Cannot query field "(\w+)"/.exec(message)?.[1];
  if (code === 'GRAPHQL_VALIDATION_FAILED' || unknownField !== undefined) {
    const needs =
      unknownField === 'paginatedDeployments'
        ? `paginatedDeployments needs Houston ${PAGINATED_SINCE} or later`
        : `this Houston does not know ${unknownField ?? 'a field of the query'}`;
    return new HoustonApiError(`Houston refused the query (${message}): ${needs}`, { retryable: false });
  }
  // INTERNAL_SERVER_ERROR and anything unknown: Houston's side, worth another attempt.
  return new HoustonApiError(`Houston answered with an error (${message}); retry later`, { retryable: true });
}

/** The unknown field a query may drop to be answered by an older Houston (see the client's field fallback). */
export function droppableField(error: unknown): keyof HoustonFields | undefined {
  const field = /Cannot query field "(\w+)" on type "Deployment"/.exec(
    (error as Error | undefined)?.message ?? '',
  )?.[1];
  return field !== undefined && Object.hasOwn(HOUSTON_FIELDS, field) ? (field as keyof HoustonFields) : undefined;
}

export interface HoustonPage {
  readonly deployments: HoustonDeployment[];
  /** Entries that failed validation, with the reason; reported, never fatal for the page. */
  readonly invalid: Array<{ id?: string; reason: string }>;
  /** Entries in the page, valid or not, and the last id (the next cursor). */
  readonly received: number;
  readonly lastId: string | undefined;
}

/** Parses a GraphQL answer: `errors` become a HoustonApiError, the page is validated entry by entry. */
export function parseHoustonPage(body: unknown): HoustonPage {
  const envelope = envelopeSchema.safeParse(body);
  if (!envelope.success) {
    throw new HoustonApiError(
      `Houston answered with a body that is not a GraphQL response (${toValidationError(envelope.error).message}); check software.baseDomain`,
      { retryable: false },
    );
  }
  if (envelope.data.errors !== undefined && envelope.data.errors.length > 0) {
    throw houstonErrorOf(envelope.data.errors);
  }
  const items = envelope.data.data?.paginatedDeployments;
  if (!Array.isArray(items)) {
    throw new HoustonApiError('Houston answered without paginatedDeployments; check software.baseDomain', {
      retryable: false,
    });
  }
  const deployments: HoustonDeployment[] = [];
  const invalid: Array<{ id?: string; reason: string }> = [];
  let lastId: string | undefined;
  for (const item of items) {
    const id = typeof (item as { id?: unknown } | null)?.id === 'string' ? (item as { id: string }).id : undefined;
    if (id !== undefined) lastId = id;
    const parsed = houstonDeploymentSchema.safeParse(item);
    if (parsed.success) deployments.push(parsed.data);
    else
      invalid.push({
        ...(id !== undefined && /^[0-9a-z-]{1,64}$/i.test(id) ? { id } : {}),
        reason: toValidationError(parsed.error).message,
      });
  }
  return { deployments, invalid, received: items.length, lastId };
}
