import { describe, expect, it } from 'vitest';
import {
  droppableField,
  HOUSTON_FIELDS,
  houstonErrorOf,
  listQuery,
  parseHoustonPage,
} from '../../shared/intake/houston-api.ts';

describe('Houston GraphQL errors say what a person does', () => {
  it.each([
    [{ message: 'You must be authenticated', extensions: { code: 'UNAUTHENTICATED' } }, false, /set software\.token/],
    [{ message: 'Invalid token' }, false, /refused the API token/],
    [
      { message: 'You do not have the appropriate permissions', extensions: { code: 'FORBIDDEN' } },
      false,
      /System Viewer/,
    ],
    [{ message: 'Cannot query field "paginatedDeployments" on type "Query".' }, false, /needs Houston 0\.32 or later/],
    [{ message: 'Cannot query field "namespace" on type "Deployment".' }, false, /does not know namespace/],
    [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, true, /retry later/],
    [{ message: 'something new' }, true, /retry later/],
  ])('%j -> retryable %s, %s', (error, retryable, message) => {
    const mapped = houstonErrorOf([error]);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.message).toMatch(message);
  });

  it('explains the unknown field even when another validation error comes first', () => {
    const mapped = houstonErrorOf([
      { message: 'Unknown type "Int".' },
      { message: 'Cannot query field "paginatedDeployments" on type "Query".' },
    ]);
    expect(mapped.message).toMatch(/needs Houston 0\.32/);
  });

  it('drops only the optional Deployment fields', () => {
    const error = (message: string) => houstonErrorOf([{ message }]);
    expect(droppableField(error('Cannot query field "namespace" on type "Deployment".'))).toBe('namespace');
    expect(droppableField(error('Cannot query field "clusterId" on type "Deployment".'))).toBe('clusterId');
    expect(droppableField(error('Cannot query field "id" on type "Deployment".'))).toBeUndefined();
    expect(droppableField(error('Cannot query field "paginatedDeployments" on type "Query".'))).toBeUndefined();
  });

  it('asks only for the fields this Houston knows', () => {
    expect(listQuery(HOUSTON_FIELDS)).toMatch(/releaseName namespace clusterId airflowVersion\n/);
    expect(listQuery({ namespace: false, clusterId: true, airflowVersion: false })).toMatch(/releaseName clusterId\n/);
  });
});

describe('parseHoustonPage', () => {
  const good = { id: 'a1', label: 'ETL', releaseName: 'solar-orbit-4143', workspace: { id: 'w1' }, extra: 1 };

  it('keeps valid entries, reports invalid ones by id, and tracks the cursor', () => {
    const page = parseHoustonPage({
      data: { paginatedDeployments: [good, { id: 'b2', label: 'no release' }, null, { ...good, id: 'c3' }] },
    });
    expect(page.deployments.map((d) => d.id)).toEqual(['a1', 'c3']);
    expect(page.deployments[0]).not.toHaveProperty('extra');
    expect(page.invalid).toEqual([
      { id: 'b2', reason: expect.stringContaining('releaseName') },
      { reason: expect.any(String) },
    ]);
    expect(page).toMatchObject({ received: 4, lastId: 'c3' });
  });

  it('refuses a body that is not a GraphQL answer, naming the setting to check', () => {
    expect(() => parseHoustonPage('<html>')).toThrow(/software\.baseDomain/);
    expect(() => parseHoustonPage({ data: {} })).toThrow(/without paginatedDeployments/);
  });
});
