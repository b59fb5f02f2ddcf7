import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import {
  AstroApiError,
  assertAstroId,
  deploymentsListUrl,
  deploymentUrl,
  errorFromStatus,
  MAX_RETRY_AFTER_MS,
  parseDeploymentResponse,
  parseDeploymentsPage,
  parseRetryAfter,
} from '../../shared/intake/astro-api.ts';

const ORG = 'clorg0000000000000000000';
const BASE = 'https://api.astronomer.io/v1';

function deployment(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: `deployment ${id}`,
    namespace: `ns-${id}`,
    organizationId: ORG,
    workspaceId: 'clws000000000000000000001',
    cloudProvider: 'AWS',
    type: 'DEDICATED',
    updatedAt: '2025-01-01T00:00:00Z',
    ...overrides,
  };
}

describe('parseDeploymentsPage', () => {
  const cases: Array<{
    name: string;
    items: unknown[];
    ids: string[];
    invalid: Array<{ id?: string; reason: RegExp }>;
  }> = [
    { name: 'an empty page', items: [], ids: [], invalid: [] },
    { name: 'valid entries', items: [deployment('d1'), deployment('d2')], ids: ['d1', 'd2'], invalid: [] },
    {
      name: 'unknown fields are ignored',
      items: [deployment('d1', { futureField: { nested: true }, dagDeployEnabled: true })],
      ids: ['d1'],
      invalid: [],
    },
    {
      name: 'null optional fields read as absent',
      items: [deployment('d1', { workspaceId: null, oidcIssuerUrl: null, remoteExecution: null, type: null })],
      ids: ['d1'],
      invalid: [],
    },
    {
      name: 'a bad namespace fails only its entry',
      items: [deployment('d1'), deployment('d2', { namespace: 'Bad_NS' }), deployment('d3')],
      ids: ['d1', 'd3'],
      invalid: [{ id: 'd2', reason: /namespace: "Bad_NS" is not a Kubernetes namespace/ }],
    },
    {
      name: 'an http issuer is refused',
      items: [deployment('d1', { oidcIssuerUrl: 'http://issuer.example.com' })],
      ids: [],
      invalid: [{ id: 'd1', reason: /oidcIssuerUrl: .*https/ }],
    },
    {
      name: 'an entry without an id is reported without one',
      items: [{ name: 'x', namespace: 'ns' }],
      ids: [],
      invalid: [{ reason: /id: / }],
    },
    {
      name: 'an id that is not an Astro id is not echoed',
      items: [{ id: 'evil id <script>', namespace: 'Bad' }],
      ids: [],
      invalid: [{ reason: /namespace/ }],
    },
    {
      name: 'a non-object entry',
      items: [42],
      ids: [],
      invalid: [{ reason: /expected a Deployment object, got number/ }],
    },
    { name: 'a null entry', items: [null], ids: [], invalid: [{ reason: /got null/ }] },
  ];

  it.each(cases)('$name', ({ items, ids, invalid }) => {
    const page = parseDeploymentsPage({
      deployments: items,
      limit: 100,
      offset: 0,
      totalCount: items.length,
      extra: 1,
    });
    expect(page.deployments.map((d) => d.id)).toEqual(ids);
    expect(page.received).toBe(items.length);
    expect(page.invalid).toHaveLength(invalid.length);
    invalid.forEach((expected, index) => {
      const actual = page.invalid[index];
      expect(actual?.id).toBe(expected.id);
      expect(actual?.reason).toMatch(expected.reason);
    });
  });

  it('drops unknown fields from the Deployment it returns', () => {
    const page = parseDeploymentsPage({
      deployments: [deployment('d1', { futureField: 1 })],
      limit: 1,
      offset: 0,
      totalCount: 1,
    });
    expect(page.deployments[0]).not.toHaveProperty('futureField');
  });

  it('keeps updatedAt of an invalid entry so a change feed can skip old ones', () => {
    const page = parseDeploymentsPage({
      deployments: [deployment('d1', { namespace: 'Bad_NS', updatedAt: '2024-01-01T00:00:00Z' })],
      limit: 1,
      offset: 0,
      totalCount: 1,
    });
    expect(page.invalid[0]?.updatedAt).toBe('2024-01-01T00:00:00Z');
  });

  it.each([
    ['not an object', 'hello'],
    ['no deployments', { limit: 1, offset: 0, totalCount: 0 }],
    ['deployments not an array', { deployments: {}, limit: 1, offset: 0, totalCount: 0 }],
    ['no totalCount', { deployments: [], limit: 1, offset: 0 }],
    ['negative offset', { deployments: [], limit: 1, offset: -1, totalCount: 0 }],
  ])('refuses an envelope with %s', (_name, body) => {
    const error = (() => {
      try {
        parseDeploymentsPage(body);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AstroApiError);
    expect(error).toMatchObject({ code: 'astro_api', apiStatus: 200, status: 502, retryable: false });
  });
});

describe('parseDeploymentResponse', () => {
  it('returns the Deployment asked for', () => {
    expect(parseDeploymentResponse(deployment('d1'), ORG, 'd1').namespace).toBe('ns-d1');
  });

  it.each([
    ['another id', deployment('d2'), AstroApiError],
    ['another organization', deployment('d1', { organizationId: 'clorgother' }), AstroApiError],
    ['an invalid Deployment', deployment('d1', { namespace: 'Bad_NS' }), ValidationError],
  ])('refuses %s', (_name, body, type) => {
    expect(() => parseDeploymentResponse(body, ORG, 'd1')).toThrow(type);
  });
});

describe('assertAstroId', () => {
  it.each(['clx0abc123', 'D1', 'a'.repeat(64)])('accepts %s', (id) => {
    expect(assertAstroId(id, 'deploymentId')).toBe(id);
  });

  it.each(['', '../x', 'a/b', '..', 'a b', 'a%2Fb', 'a?b', 'a#b', 'a'.repeat(65), 'ü'])('refuses %j', (id) => {
    expect(() => assertAstroId(id, 'deploymentId')).toThrow(ValidationError);
  });
});

describe('URLs', () => {
  it('builds the Deployment URL', () => {
    expect(deploymentUrl(`${BASE}/`, ORG, 'd1')).toBe(`${BASE}/organizations/${ORG}/deployments/d1`);
  });

  it.each([
    [{ offset: 0, limit: 100 }, 'offset=0&limit=100&sorts%5B%5D=updatedAt%3Adesc'],
    [
      { offset: 200, limit: 50, workspaceIds: ['w1', 'w2'] },
      'offset=200&limit=50&sorts%5B%5D=updatedAt%3Adesc&workspaceIds%5B%5D=w1&workspaceIds%5B%5D=w2',
    ],
    [
      { offset: 0, limit: 1, deploymentIds: ['d1'] },
      'offset=0&limit=1&sorts%5B%5D=updatedAt%3Adesc&deploymentIds%5B%5D=d1',
    ],
  ])('builds the list URL for %j', (query, search) => {
    expect(deploymentsListUrl(BASE, ORG, query)).toBe(`${BASE}/organizations/${ORG}/deployments?${search}`);
  });

  it.each([
    { offset: -1, limit: 10 },
    { offset: 0, limit: 0 },
    { offset: 0, limit: 1001 },
    { offset: 0.5, limit: 10 },
    { offset: 0, limit: 10, workspaceIds: ['../x'] },
  ])('refuses %j', (query) => {
    expect(() => deploymentsListUrl(BASE, ORG, query)).toThrow(ValidationError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    [null, undefined],
    ['', undefined],
    ['soon', undefined],
    ['0', 0],
    ['2', 2000],
    ['1.5', 1500],
    ['3600', MAX_RETRY_AFTER_MS],
    ['Wed, 01 Jan 2025 00:00:05 GMT', 5000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
  ])('%j -> %j ms', (header, expected) => {
    expect(parseRetryAfter(header, now)).toBe(expected);
  });
});

describe('errorFromStatus', () => {
  it.each([
    [301, false, /does not redirect/],
    [400, false, /refused/],
    [401, false, /token is invalid or lacks Organization\/Workspace read access/],
    [403, false, /token is invalid or lacks Organization\/Workspace read access/],
    [404, false, /check the organization id/],
    [429, true, /rate limited/],
    [500, true, /failed on its side/],
    [503, true, /failed on its side/],
  ])('%i -> retryable %s', (status, retryable, message) => {
    const error = errorFromStatus(status, 'listing things');
    expect(error).toMatchObject({ apiStatus: status, retryable, code: 'astro_api', status: retryable ? 503 : 502 });
    expect(error.message).toMatch(message);
    expect(error.message).toContain('when listing things');
  });

  it('shows the API message and request id', () => {
    const error = errorFromStatus(400, 'x', { body: { message: 'limit too big', statusCode: 400, requestId: 'r1' } });
    expect(error.message).toContain('"limit too big", requestId r1');
  });

  it('carries Retry-After on retryable answers', () => {
    expect(errorFromStatus(429, 'x', { retryAfterMs: 1000 }).retryAfterMs).toBe(1000);
  });
});
