import { OutOfTimeError, ValidationError } from '../../shared/errors.ts';
import {
  ASTRO_API_BASE_URL,
  AstroApiError,
  type DeploymentsPage,
  deploymentsListUrl,
  deploymentUrl,
  errorFromStatus,
  type InvalidDeployment,
  isUpdatedSince,
  MAX_LIST_LIMIT,
  MAX_RETRY_AFTER_MS,
  parseDeploymentResponse,
  parseDeploymentsPage,
  parseRetryAfter,
} from '../../shared/intake/astro-api.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';
import type { DeploymentSource } from './deployment-lookup.ts';
import { withRetries } from './retry.ts';
import { type Clock, createTokenBucket } from './token-bucket.ts';

/**
 * Astro API v1 client over `fetch`: bearer token, per-attempt timeout, retries with backoff on 429/5xx/no answer,
 * and no retry on other 4xx, which cannot succeed without a person changing something.
 */

export interface AstroClientOptions {
  /** Default https://api.astronomer.io/v1. Plain http is accepted for loopback only (the emulator). */
  baseUrl?: string;
  token: string;
  /** Per attempt, body included. Default 10000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Backoff base, doubled per retry. Default 500; tests use a few ms. */
  minTimeoutMs?: number;
  /** Default page size of `list`, 1-1000. Default 1000, as the official clients ask. */
  pageSize?: number;
  /**
   * Requests (every attempt, retries included) this client sends per second at most, paced by a token bucket shared
   * by all its calls. Default 20, under the documented 25 GET/s per token. Several clients with one token (function
   * instances running at once) each keep their own count.
   */
  requestsPerSecond?: number;
  /** For tests of the pacing. */
  clock?: Clock;
  fetch?: typeof fetch;
}

export interface AstroListPageQuery {
  offset: number;
  limit: number;
  workspaceIds?: string[];
  deploymentIds?: string[];
}

export interface AstroListOptions {
  workspaceIds?: string[];
  /** 1-1000; default the client's `pageSize`. */
  pageSize?: number;
  /** ISO time: only Deployments updated at or after it are returned, and paging stops once a page is older. */
  updatedSince?: string;
  onPage?: (info: { fetched: number; totalCount: number }) => void;
  /** The invocation's stop: no page is asked for once it is aborted (the run fails retryable; the next catches up). */
  signal?: AbortSignal | undefined;
}

export interface AstroClient extends DeploymentSource {
  /** GET /organizations/{org}/deployments/{id}; a 404 is `undefined` (the Deployment was deleted). */
  get(organizationId: string, deploymentId: string): Promise<Deployment | undefined>;
  listPage(organizationId: string, query: AstroListPageQuery): Promise<DeploymentsPage>;
  list(organizationId: string, options?: AstroListOptions): Promise<AstroList>;
}

export interface AstroList {
  deployments: Deployment[];
  invalid: InvalidDeployment[];
  /**
   * The whole organization (or scope) was seen in one consistent pass: no page shifted under the pager (each page
   * starts with the last entry of the one before), no page came back empty before `totalCount`, and the unique ids
   * seen match it. False for a look-back (`updatedSince`) list, which stops early on purpose. Only a complete list
   * may tell the sweep that a namespace belongs to no Deployment.
   */
  complete: boolean;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_MIN_TIMEOUT_MS = 500;
const DEFAULT_PAGE_SIZE = MAX_LIST_LIMIT;
const DEFAULT_REQUESTS_PER_SECOND = 20;
/** The documented GET rate per token; pacing at it or above would only earn 429s. */
const MAX_REQUESTS_PER_SECOND = 25;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function nonNegativeInteger(value: number | undefined, fallback: number, field: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new ValidationError(`must be a non-negative integer, got ${value}`, { field, code: 'invalid_config' });
  }
  return value;
}

function checkPageSize(pageSize: number): number {
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_LIST_LIMIT) {
    throw new ValidationError(`must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${pageSize}`, {
      field: 'pageSize',
      code: 'invalid_config',
    });
  }
  return pageSize;
}

function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch (cause) {
    throw new ValidationError(`"${baseUrl}" is not a URL; expected ${ASTRO_API_BASE_URL}`, {
      field: 'baseUrl',
      code: 'invalid_config',
      cause,
    });
  }
  // The token is a bearer secret: it may travel in clear text only to this machine.
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
  if (!secure || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new ValidationError(
      `"${url.origin}${url.pathname}" is not usable: use https:// (http:// only for localhost) without credentials, query or fragment`,
      { field: 'baseUrl', code: 'invalid_config' },
    );
  }
  return baseUrl;
}

type Answer = { found: true; status: number; body: unknown } | { found: false };

export function createAstroClient(options: AstroClientOptions): AstroClient {
  const { token } = options;
  if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token)) {
    throw new ValidationError('the Astro API token is empty or contains white space', {
      field: 'token',
      code: 'invalid_config',
    });
  }
  const baseUrl = checkBaseUrl(options.baseUrl ?? ASTRO_API_BASE_URL);
  const timeoutMs = nonNegativeInteger(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const retries = nonNegativeInteger(options.retries, DEFAULT_RETRIES, 'retries');
  const minTimeoutMs = nonNegativeInteger(options.minTimeoutMs, DEFAULT_MIN_TIMEOUT_MS, 'minTimeoutMs');
  const defaultPageSize = checkPageSize(options.pageSize ?? DEFAULT_PAGE_SIZE);
  const requestsPerSecond = options.requestsPerSecond ?? DEFAULT_REQUESTS_PER_SECOND;
  if (!(requestsPerSecond > 0 && requestsPerSecond <= MAX_REQUESTS_PER_SECOND)) {
    throw new ValidationError(
      `must be a number above 0 and at most ${MAX_REQUESTS_PER_SECOND}, got ${requestsPerSecond}`,
      {
        field: 'requestsPerSecond',
        code: 'invalid_config',
      },
    );
  }
  const pace = createTokenBucket({
    ratePerSecond: requestsPerSecond,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const fetchImpl = options.fetch ?? fetch;
  const origin = new URL(baseUrl).origin;
  const headers = {
    Authorization: `Bearer ${token}`,
    Accept: 'application/json',
    'User-Agent': 'astro-identity-sync',
  };

  // Belt and braces: no message built here contains the token, but an API message or a fetch cause might echo it.
  const redact = (text: string): string => text.split(token).join('[redacted]');
  const redacted = (error: AstroApiError): AstroApiError =>
    error.message.includes(token)
      ? new AstroApiError(redact(error.message), {
          status: error.apiStatus,
          retryable: error.retryable,
          retryAfterMs: error.retryAfterMs,
        })
      : error;

  function noAnswer(error: unknown, what: string): AstroApiError {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      return new AstroApiError(`the Astro API did not answer within ${timeoutMs} ms when ${what}; retry later`, {
        status: 0,
        retryable: true,
      });
    }
    // fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, ENOTFOUND, ...) in the cause.
    const cause = error instanceof Error ? error.cause : undefined;
    const code =
      cause !== null && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string'
        ? cause.code
        : error instanceof Error
          ? error.message
          : String(error);
    return new AstroApiError(`could not reach the Astro API at ${origin} when ${what} (${redact(code)}); retry later`, {
      status: 0,
      retryable: true,
    });
  }

  /** One attempt; its AstroApiError says whether another attempt can help. */
  async function attempt(url: string, what: string, notFoundIsAnswer: boolean): Promise<Answer> {
    let status: number;
    let text: string;
    let retryAfter: string | null;
    await pace.take();
    try {
      const response = await fetchImpl(url, {
        method: 'GET',
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      retryAfter = response.headers.get('retry-after');
      // Read under the same signal: a server that stalls mid-body is as dead as one that never answers.
      text = await response.text();
    } catch (error) {
      throw noAnswer(error, what);
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch (cause) {
      if (status >= 200 && status < 300) {
        throw new AstroApiError(`the Astro API answered ${status} with a body that is not JSON when ${what}`, {
          status,
          retryable: false,
          cause,
        });
      }
    }
    if (status >= 200 && status < 300) return { found: true, status, body };
    if (status === 404 && notFoundIsAnswer) return { found: false };
    throw redacted(errorFromStatus(status, what, { body, retryAfterMs: parseRetryAfter(retryAfter) }));
  }

  async function call(url: string, what: string, notFoundIsAnswer: boolean): Promise<Answer> {
    let attempts = 0;
    try {
      return await withRetries(
        () => {
          attempts += 1;
          return attempt(url, what, notFoundIsAnswer);
        },
        {
          retries,
          minTimeoutMs,
          maxTimeoutMs: MAX_RETRY_AFTER_MS,
          retryable: (error) => error instanceof AstroApiError && error.retryable,
          // Retry-After is the API's own estimate; it is waited on top of the backoff rather than instead of it,
          // which errs on the polite side.
          waitMs: (error) => (error instanceof AstroApiError ? error.retryAfterMs : undefined),
        },
      );
    } catch (error) {
      if (error instanceof AstroApiError && attempts > 1) {
        throw new AstroApiError(`${error.message} (gave up after ${attempts} attempts)`, {
          status: error.apiStatus,
          retryable: error.retryable,
          retryAfterMs: error.retryAfterMs,
          cause: error,
        });
      }
      throw error;
    }
  }

  async function get(organizationId: string, deploymentId: string): Promise<Deployment | undefined> {
    const url = deploymentUrl(baseUrl, organizationId, deploymentId);
    const answer = await call(url, `reading Deployment ${deploymentId} of organization ${organizationId}`, true);
    if (!answer.found) return undefined;
    return parseDeploymentResponse(answer.body, organizationId, deploymentId);
  }

  async function listPage(organizationId: string, query: AstroListPageQuery): Promise<DeploymentsPage> {
    const url = deploymentsListUrl(baseUrl, organizationId, query);
    const answer = await call(url, `listing the Deployments of organization ${organizationId}`, false);
    // `found` is always true here (a 404 is an error for a list); the check narrows the type.
    if (!answer.found) throw errorFromStatus(404, `listing the Deployments of organization ${organizationId}`);
    return parseDeploymentsPage(answer.body, answer.status);
  }

  async function list(organizationId: string, listOptions: AstroListOptions = {}): Promise<AstroList> {
    const pageSize = listOptions.pageSize === undefined ? defaultPageSize : checkPageSize(listOptions.pageSize);
    let sinceMs: number | undefined;
    if (listOptions.updatedSince !== undefined) {
      sinceMs = Date.parse(listOptions.updatedSince);
      if (Number.isNaN(sinceMs)) {
        throw new ValidationError(`"${listOptions.updatedSince}" is not an ISO 8601 time`, { field: 'updatedSince' });
      }
    }
    const deployments: Deployment[] = [];
    const invalid: InvalidDeployment[] = [];
    // Offset paging over a list that changes meanwhile can repeat an entry (it moved down a page): keep the first.
    // It can also skip one (an entry before it was deleted, so it moved up): each page after the first re-reads the
    // last entry of the page before, and a page that does not start with it shows the list moved.
    const seen = new Set<string>();
    let offset = 0;
    let previousLast: string | undefined;
    let consistent = true;
    let totalCount = 0;
    let reachedOlder = false;
    for (;;) {
      if (listOptions.signal?.aborted) {
        throw new OutOfTimeError(
          `the invocation ran out of time listing the Deployments of organization ${organizationId}; the next run lists them again`,
        );
      }
      const start = previousLast === undefined ? offset : offset - 1;
      const page = await listPage(organizationId, {
        offset: start,
        limit: pageSize,
        ...(listOptions.workspaceIds === undefined ? {} : { workspaceIds: listOptions.workspaceIds }),
      });
      totalCount = page.totalCount;
      if (previousLast !== undefined && page.ids[0] !== previousLast) consistent = false;
      const next = start + page.received;
      listOptions.onPage?.({ fetched: next, totalCount: page.totalCount });
      for (const deployment of page.deployments) {
        if (sinceMs !== undefined && !isUpdatedSince(deployment.updatedAt, sinceMs)) {
          reachedOlder = true;
          continue;
        }
        if (seen.has(deployment.id)) continue;
        seen.add(deployment.id);
        deployments.push(deployment);
      }
      for (const entry of page.invalid) {
        if (sinceMs !== undefined && !isUpdatedSince(entry.updatedAt, sinceMs)) {
          reachedOlder = true;
          continue;
        }
        if (entry.id !== undefined && seen.has(entry.id)) continue;
        if (entry.id !== undefined) seen.add(entry.id);
        invalid.push(entry);
      }
      // The list is newest-updated first, so once one entry is older than the cursor every later page is too.
      if (reachedOlder || next >= page.totalCount) break;
      // An empty page (or one holding only the re-read entry) before totalCount: the list shrank under the pager,
      // or the API stopped early. Either way the pass is not whole; stop rather than loop.
      if (next <= offset) {
        consistent = false;
        break;
      }
      offset = next;
      previousLast = page.ids.at(-1);
    }
    const unnamed = invalid.filter((entry) => entry.id === undefined).length;
    const complete = consistent && !reachedOlder && sinceMs === undefined && seen.size + unnamed === totalCount;
    return { deployments, invalid, complete };
  }

  return { get, listPage, list };
}
