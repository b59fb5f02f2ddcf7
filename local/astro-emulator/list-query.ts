/**
 * The list endpoint's query language, as the Astro API v1 reads it: `offset`, `limit`, `sorts[]=<field>:<dir>` and
 * repeated `workspaceIds[]`, `deploymentIds[]`, `names[]` filters (values of one filter ORed, filters ANDed).
 */

export type StoredDeployment = Record<string, unknown>;

const SORTABLE_FIELDS = new Set(['name', 'createdAt', 'updatedAt', 'status', 'workspaceId', 'id']);
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

interface Sort {
  readonly field: string;
  readonly descending: boolean;
}

interface ListQuery {
  readonly offset: number;
  readonly limit: number;
  readonly sorts: readonly Sort[];
  readonly workspaceIds: readonly string[];
  readonly deploymentIds: readonly string[];
  readonly names: readonly string[];
}

function integerParam(params: URLSearchParams, name: string, fallback: number, max: number): number | string {
  const raw = params.get(name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > max) return `${name} must be an integer from 0 to ${max}`;
  return Number(raw);
}

/** Returns the query, or the message of the 400 the real API would answer. */
export function parseListQuery(params: URLSearchParams): ListQuery | string {
  const offset = integerParam(params, 'offset', 0, Number.MAX_SAFE_INTEGER);
  if (typeof offset === 'string') return offset;
  const limit = integerParam(params, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
  if (typeof limit === 'string') return limit;
  const sorts: Sort[] = [];
  for (const raw of params.getAll('sorts[]')) {
    const [field, direction, ...rest] = raw.split(':');
    if (field === undefined || !SORTABLE_FIELDS.has(field) || (direction !== 'asc' && direction !== 'desc')) {
      return `sorts[] "${raw}" is not supported; use <field>:asc or <field>:desc with a field in ${[...SORTABLE_FIELDS].join(', ')}`;
    }
    if (rest.length > 0) return `sorts[] "${raw}" is not supported`;
    sorts.push({ field, descending: direction === 'desc' });
  }
  return {
    offset,
    limit,
    sorts,
    workspaceIds: params.getAll('workspaceIds[]'),
    deploymentIds: params.getAll('deploymentIds[]'),
    names: params.getAll('names[]'),
  };
}

function compareValues(a: unknown, b: unknown): number {
  // Missing values sort last in either direction, as a database's NULLS LAST would.
  if (a === undefined || a === null) return b === undefined || b === null ? 0 : 1;
  if (b === undefined || b === null) return -1;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

function matches(values: readonly string[], value: unknown): boolean {
  return values.length === 0 || (typeof value === 'string' && values.includes(value));
}

/** Filters, sorts (stable: ties keep insertion order) and slices; `totalCount` counts the filtered list. */
export function runListQuery(
  all: readonly StoredDeployment[],
  query: ListQuery,
): { page: StoredDeployment[]; totalCount: number } {
  const filtered = all.filter(
    (deployment) =>
      matches(query.workspaceIds, deployment.workspaceId) &&
      matches(query.deploymentIds, deployment.id) &&
      matches(query.names, deployment.name),
  );
  const sorted = [...filtered].sort((a, b) => {
    for (const sort of query.sorts) {
      const aValue = a[sort.field];
      const bValue = b[sort.field];
      const missing = aValue === undefined || aValue === null || bValue === undefined || bValue === null;
      const order = compareValues(aValue, bValue);
      if (order !== 0) return sort.descending && !missing ? -order : order;
    }
    return 0;
  });
  return { page: sorted.slice(query.offset, query.offset + query.limit), totalCount: filtered.length };
}
