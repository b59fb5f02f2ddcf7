import { OutOfTimeError, ValidationError } from '../../shared/errors.ts';
import {
  droppableField,
  HOUSTON_FIELDS,
  HoustonApiError,
  type HoustonDeployment,
  type HoustonFields,
  type HoustonPage,
  listQuery,
  parseHoustonPage,
} from '../../shared/intake/houston-api.ts';
import { withRetries } from './retry.ts';

/**
 * Houston (Astronomer Software) over `fetch`: GraphQL POST with the raw token in `authorization`, a per-attempt
 * timeout, retries with backoff on 429, 5xx, GraphQL errors Houston marks as its own and no answer; cursor paging.
 * A field an older Houston does not know (`namespace` in lists, `clusterId` before 1.0) is dropped once and the
 * mapping falls back to the configured namespace template and the default cluster.
 */

export interface HoustonClientOptions {
  /** https://houston.<base domain>/v1; plain http only for loopback (the emulator). */
  url: string;
  token: string;
  /** Per attempt. Default 10000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 3. */
  retries?: number;
  /** Backoff base. Default 500; tests use a few ms. */
  minTimeoutMs?: number;
  /** Page size (`take`). Default 100. */
  pageSize?: number;
  fetch?: typeof fetch;
}

export interface HoustonList {
  deployments: HoustonDeployment[];
  invalid: Array<{ id?: string; reason: string }>;
  /** Which optional fields this Houston answered (a missing namespace is filled from the template). */
  fields: HoustonFields;
}

export interface HoustonListOptions {
  /** Aborted when the invocation must stop: no further page is asked for (see the Astro client's list). */
  readonly signal?: AbortSignal | undefined;
}

export interface HoustonClient {
  list(options?: HoustonListOptions): Promise<HoustonList>;
  /** One Deployment by id, from the list (Houston's single-Deployment query lacks the namespace). */
  get(id: string): Promise<HoustonDeployment | undefined>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function houstonUrl(baseDomain: string): string {
  return `https://houston.${baseDomain}/v1`;
}

function checkUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ValidationError(`"${value}" is not a URL`, {
      field: 'software.baseDomain',
      code: 'invalid_config',
      cause,
    });
  }
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
  if (!secure || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`"${url.origin}" is not usable: Houston needs https:// (http:// only for localhost)`, {
      field: 'software.baseDomain',
      code: 'invalid_config',
    });
  }
  return value;
}

export function createHoustonClient(options: HoustonClientOptions): HoustonClient {
  const { token } = options;
  if (token.trim() === '' || /\s/.test(token)) {
    throw new ValidationError('the Houston API token is empty or contains white space', {
      field: 'software.token',
      code: 'invalid_config',
    });
  }
  const url = checkUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const pageSize = options.pageSize ?? 100;
  const fetchImpl = options.fetch ?? fetch;
  const fields: HoustonFields = { ...HOUSTON_FIELDS };
  const redact = (text: string) => text.split(token).join('[redacted]');

  async function attempt(variables: Record<string, unknown>): Promise<HoustonPage> {
    let status: number;
    let text: string;
    try {
      const response = await fetchImpl(url, {
        method: 'POST',
        // Houston takes the token as it is; "Bearer <token>" is refused.
        headers: { authorization: token, 'content-type': 'application/json', 'user-agent': 'astro-identity-sync' },
        body: JSON.stringify({ query: listQuery(fields), variables }),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      const cause = error instanceof Error ? (error.cause as { code?: string } | undefined)?.code : undefined;
      throw new HoustonApiError(
        timedOut
          ? `Houston did not answer within ${timeoutMs} ms; retry later`
          : `could not reach Houston at ${new URL(url).origin} (${redact(cause ?? String(error))}); check software.baseDomain, or retry later`,
        { retryable: true, cause: error },
      );
    }
    if (status === 429 || status >= 500) {
      throw new HoustonApiError(`Houston answered ${status}; retry later`, { retryable: true });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new HoustonApiError(
        `Houston answered ${status} with a body that is not JSON; check software.baseDomain points at Houston (houston.<base domain>)`,
        { retryable: false, cause },
      );
    }
    return parseHoustonPage(body);
  }

  async function page(variables: Record<string, unknown>): Promise<HoustonPage> {
    for (;;) {
      try {
        return await withRetries(() => attempt(variables), {
          retries: options.retries ?? 3,
          minTimeoutMs: options.minTimeoutMs ?? 500,
          retryable: (error) => error instanceof HoustonApiError && error.retryable,
        });
      } catch (error) {
        const field = droppableField(error);
        // An older Houston: ask again without the field (once per field and cold start).
        if (field === undefined || !fields[field]) throw error;
        fields[field] = false;
      }
    }
  }

  async function list(options: HoustonListOptions = {}): Promise<HoustonList> {
    const deployments: HoustonDeployment[] = [];
    const invalid: Array<{ id?: string; reason: string }> = [];
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (;;) {
      // Half a list must never be judged (stale entries, prune): out of time, the run fails retryable instead.
      if (options.signal?.aborted) {
        throw new OutOfTimeError(
          'the invocation ran out of time listing the Deployments Houston serves; the next run lists them again',
        );
      }
      const result = await page({ take: pageSize, ...(cursor === undefined ? {} : { cursor }) });
      for (const deployment of result.deployments) {
        if (seen.has(deployment.id)) continue;
        seen.add(deployment.id);
        deployments.push(deployment);
      }
      invalid.push(...result.invalid);
      // A short page is the last; a cursor that does not move would loop forever.
      if (result.received < pageSize || result.lastId === undefined || result.lastId === cursor) break;
      cursor = result.lastId;
    }
    return { deployments, invalid, fields: { ...fields } };
  }

  return {
    list,
    async get(id) {
      return (await list()).deployments.find((deployment) => deployment.id === id);
    },
  };
}
