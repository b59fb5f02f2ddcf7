import * as z from 'zod/mini';
import { IdentitySyncError, ValidationError } from '../errors.ts';
import '../zod-english.ts';
import { toValidationError } from '../zod-error.ts';
import { type Deployment, deploymentSchema } from './deployment.ts';

/**
 * The pure part of the Astro API v1 client: ids, URLs, response parsing and error classification. No I/O here, so
 * every decision the client makes about a response can be tested without a server.
 */

export const ASTRO_API_BASE_URL = 'https://api.astronomer.io/v1';

/** Astro ids are cuids (`clorg...`, 25 lowercase alphanumerics); the bound leaves room for a format change. */
const ASTRO_ID = /^[a-z0-9]{1,64}$/i;

/** Longest Retry-After honoured: a misbehaving proxy must not park a Lambda for its whole timeout. */
export const MAX_RETRY_AFTER_MS = 30_000;

/**
 * A call to the Astro API that failed; `retryable` says whether the same call may succeed later (429, 5xx, no
 * answer). An outage answers 503 at our edges, a refusal (bad token, wrong organization) 502.
 */
export class AstroApiError extends IdentitySyncError {
  override name = 'AstroApiError';
  /** The Astro API's own HTTP status, or 0 when no answer arrived (`status` is what our edge answers). */
  readonly apiStatus: number;
  /** How long the API asked us to wait (Retry-After), already capped at MAX_RETRY_AFTER_MS. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { status: number; retryable: boolean; retryAfterMs?: number | undefined; cause?: unknown },
  ) {
    super('astro_api', message, { retryable: options.retryable, cause: options.cause });
    this.apiStatus = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A list entry that failed validation: reported so a person can fix that one Deployment, never fatal for the page. */
export interface InvalidDeployment {
  id?: string;
  /** Kept so a change feed can drop entries older than its cursor instead of reporting them on every poll. */
  updatedAt?: string;
  reason: string;
}

export interface DeploymentsPage {
  deployments: Deployment[];
  invalid: InvalidDeployment[];
  /** Entries in the page, valid or not: the offset of the next page is `offset + received`. */
  received: number;
  /** The id of each entry in order (`undefined` where an entry has none): lets a pager see the list shift. */
  ids: Array<string | undefined>;
  limit: number;
  offset: number;
  totalCount: number;
}

// Items stay `unknown` here and are parsed one by one below, so one bad Deployment cannot fail the whole page.
const deploymentsPageSchema = z.object({
  deployments: z.array(z.unknown()),
  limit: z.number().check(z.int(), z.nonnegative()),
  offset: z.number().check(z.int(), z.nonnegative()),
  totalCount: z.number().check(z.int(), z.nonnegative()),
});

/** Validates an id before it is put in a URL path, so a value like `../x` or `a/b` cannot change the route. */
export function assertAstroId(value: string, field: string): string {
  if (!ASTRO_ID.test(value)) {
    const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    throw new ValidationError(`${shown} is not an Astro id: use 1-64 letters or digits (e.g. clx0abc123...)`, {
      field,
    });
  }
  return value;
}

function stripTrailingSlashes(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}

export function deploymentUrl(baseUrl: string, organizationId: string, deploymentId: string): string {
  const org = encodeURIComponent(assertAstroId(organizationId, 'organizationId'));
  const id = encodeURIComponent(assertAstroId(deploymentId, 'deploymentId'));
  return `${stripTrailingSlashes(baseUrl)}/organizations/${org}/deployments/${id}`;
}

interface ListQuery {
  offset: number;
  limit: number;
  workspaceIds?: readonly string[] | undefined;
  deploymentIds?: readonly string[] | undefined;
}

/** Builds the list URL. The sort is fixed: newest-updated first is what lets a change feed stop paging early. */
/**
 * The largest `limit` this client asks for: the official clients (astro-cli, the Terraform provider) request 1000.
 * The v1 spec documents no maximum, so nothing larger is known to be answered in full.
 */
export const MAX_LIST_LIMIT = 1000;

export function deploymentsListUrl(baseUrl: string, organizationId: string, query: ListQuery): string {
  const org = encodeURIComponent(assertAstroId(organizationId, 'organizationId'));
  if (!Number.isInteger(query.offset) || query.offset < 0) {
    throw new ValidationError(`offset must be a non-negative integer, got ${query.offset}`, { field: 'offset' });
  }
  if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_LIST_LIMIT) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${query.limit}`, {
      field: 'limit',
    });
  }
  const params = new URLSearchParams({ offset: String(query.offset), limit: String(query.limit) });
  params.append('sorts[]', 'updatedAt:desc');
  for (const id of query.workspaceIds ?? []) params.append('workspaceIds[]', assertAstroId(id, 'workspaceIds'));
  for (const id of query.deploymentIds ?? []) params.append('deploymentIds[]', assertAstroId(id, 'deploymentIds'));
  return `${stripTrailingSlashes(baseUrl)}/organizations/${org}/deployments?${params.toString()}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses one list entry; failures become an InvalidDeployment with the id when the entry has a usable one. */
function parseDeploymentItem(
  item: unknown,
): { ok: true; deployment: Deployment } | { ok: false; invalid: InvalidDeployment } {
  const result = deploymentSchema.safeParse(item);
  if (result.success) return { ok: true, deployment: result.data };
  const invalid: InvalidDeployment = { reason: toValidationError(result.error).message };
  if (isRecord(item)) {
    // Only an id that could be real is echoed: the reason may end up in Slack, so arbitrary text stays out.
    if (typeof item.id === 'string' && ASTRO_ID.test(item.id)) invalid.id = item.id;
    if (typeof item.updatedAt === 'string' && !Number.isNaN(Date.parse(item.updatedAt))) {
      invalid.updatedAt = item.updatedAt;
    }
  } else {
    invalid.reason = `expected a Deployment object, got ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}`;
  }
  return { ok: false, invalid };
}

/** Parses a list response. A malformed envelope is an AstroApiError; malformed entries are returned in `invalid`. */
export function parseDeploymentsPage(body: unknown, status = 200): DeploymentsPage {
  const envelope = deploymentsPageSchema.safeParse(body);
  if (!envelope.success) {
    throw new AstroApiError(
      `the Astro API answered the Deployment list with an unexpected body (${toValidationError(envelope.error).message}); check the base URL points at the Astro API v1`,
      { status, retryable: false, cause: envelope.error },
    );
  }
  const deployments: Deployment[] = [];
  const invalid: InvalidDeployment[] = [];
  for (const item of envelope.data.deployments) {
    const parsed = parseDeploymentItem(item);
    if (parsed.ok) deployments.push(parsed.deployment);
    else invalid.push(parsed.invalid);
  }
  const { limit, offset, totalCount } = envelope.data;
  const ids = envelope.data.deployments.map((item) =>
    isRecord(item) && typeof item.id === 'string' ? item.id : undefined,
  );
  return { deployments, invalid, received: envelope.data.deployments.length, ids, limit, offset, totalCount };
}

/** Parses a single-Deployment response and checks it is the one asked for, so a wrong answer cannot be applied. */
export function parseDeploymentResponse(body: unknown, organizationId: string, deploymentId: string): Deployment {
  const parsed = parseDeploymentItem(body);
  if (!parsed.ok) {
    throw new ValidationError(
      `the Astro API returned Deployment ${deploymentId} in a form this tool refuses: ${parsed.invalid.reason}`,
      { field: 'deployment' },
    );
  }
  const { deployment } = parsed;
  if (deployment.id !== deploymentId || deployment.organizationId !== organizationId) {
    throw new AstroApiError(
      `the Astro API answered a request for Deployment ${deploymentId} of organization ${organizationId} with another Deployment; check the base URL`,
      { status: 200, retryable: false },
    );
  }
  return deployment;
}

/** Retry-After is seconds or an HTTP date; either way the wait is capped so one answer cannot stall a run. */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    ms = date - now;
  }
  return Math.min(Math.max(0, Math.round(ms)), MAX_RETRY_AFTER_MS);
}

/** The `message` and `requestId` of an Astro error body, cut short: they are shown to people, not parsed. */
function describeErrorBody(body: unknown): string {
  if (!isRecord(body)) return '';
  const parts: string[] = [];
  if (typeof body.message === 'string' && body.message !== '') parts.push(`"${body.message.slice(0, 200)}"`);
  if (typeof body.requestId === 'string' && body.requestId !== '')
    parts.push(`requestId ${body.requestId.slice(0, 64)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * Classifies a non-2xx answer. `what` names the call ("listing the Deployments of organization x") so the message
 * reads on its own in a log or a Slack line.
 */
export function errorFromStatus(
  status: number,
  what: string,
  options: { body?: unknown; retryAfterMs?: number | undefined } = {},
): AstroApiError {
  const detail = describeErrorBody(options.body);
  const base = `the Astro API answered ${status} when ${what}${detail}`;
  if (status === 401 || status === 403) {
    return new AstroApiError(
      `${base}: the Astro API token is invalid or lacks Organization/Workspace read access; create an Organization or Workspace API token with at least read (Member) access to this organization`,
      { status, retryable: false },
    );
  }
  if (status >= 300 && status < 400) {
    // Redirects are not followed: a redirect to another host would carry the token or lose it, both wrong here.
    return new AstroApiError(`${base}: the Astro API does not redirect; check the base URL (${ASTRO_API_BASE_URL})`, {
      status,
      retryable: false,
    });
  }
  if (status === 404) {
    return new AstroApiError(`${base}: check the organization id and that the token belongs to that organization`, {
      status,
      retryable: false,
    });
  }
  if (status === 429) {
    return new AstroApiError(`${base}: rate limited, retry later`, {
      status,
      retryable: true,
      retryAfterMs: options.retryAfterMs,
    });
  }
  if (status >= 500) {
    return new AstroApiError(`${base}: the Astro API failed on its side, retry later`, {
      status,
      retryable: true,
      retryAfterMs: options.retryAfterMs,
    });
  }
  return new AstroApiError(`${base}: the request was refused; this is a bug or an unsupported API change`, {
    status,
    retryable: false,
  });
}

/** Keeps the Deployments (and invalid entries) updated at or after `since`; entries without a time are kept. */
export function isUpdatedSince(updatedAt: string | undefined, sinceMs: number): boolean {
  if (updatedAt === undefined) return true;
  const at = Date.parse(updatedAt);
  return Number.isNaN(at) || at >= sinceMs;
}
