import { describe, expect, it } from 'vitest';
import {
  DoesNotFitError,
  LeaseChangedError,
  TargetError,
  WriteConflictError,
  WriteRefusedError,
} from '../../shared/errors.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import { type GrantRequest, reconcileTarget, type TargetDriver } from '../../shared/reconcile/reconcile-target.ts';

/** A target holding a set of subjects, with scripted read/write behaviour: enough to drive every branch. */
function fakeTarget(options: {
  initial?: string[];
  limit?: number;
  /** Called after each successful write with the stored set; may replace it (a concurrent writer). */
  afterWrite?: (stored: Set<string>, writes: number) => Set<string>;
  writeErrors?: unknown[];
  readErrors?: unknown[];
}) {
  let stored = new Set(options.initial ?? []);
  const calls: string[] = [];
  const driver: TargetDriver<Set<string>> = {
    async read() {
      calls.push('read');
      const error = options.readErrors?.shift();
      if (error) throw error;
      return new Set(stored);
    },
    plan(current, request) {
      const missing = request.grant.subjects.filter((s) => !current.has(s));
      const next = new Set([...current, ...missing]);
      if (options.limit !== undefined && next.size > options.limit) {
        throw new DoesNotFitError('too many', {
          size: next.size,
          limit: options.limit,
          remedies: ['use another target'],
        });
      }
      return { changed: missing.length > 0, added: missing, present: [], next };
    },
    owned: (current) => new Set([...current].map((s) => s.split(':')[2] ?? '')),
    async write(_current, next) {
      calls.push('write');
      const error = options.writeErrors?.shift();
      if (error) throw error;
      stored = new Set(next);
      if (options.afterWrite) stored = options.afterWrite(stored, calls.filter((c) => c === 'write').length);
    },
  };
  return { driver, calls, stored: () => stored };
}

const request = (key: string, namespace: string): GrantRequest => ({
  key,
  issuer: undefined,
  grant: desiredGrant({ namespace, selection: { components: ['scheduler', 'worker'] } }),
});
const noSleep = { sleep: async () => undefined, random: () => 0.5 };

describe('reconcileTarget', () => {
  it('reads once and writes nothing when every grant is present', async () => {
    const req = request('a', 'ns-a');
    const target = fakeTarget({ initial: [...req.grant.subjects] });
    const outcomes = await reconcileTarget(target.driver, [req], noSleep);
    expect(outcomes.get('a')).toEqual({ status: 'unchanged', added: [], present: [] });
    expect(target.calls).toEqual(['read']);
  });

  it('writes once for many requests on one target, then verifies with one read', async () => {
    const target = fakeTarget({});
    const outcomes = await reconcileTarget(
      target.driver,
      [request('a', 'ns-a'), request('b', 'ns-b'), request('c', 'ns-c')],
      noSleep,
    );
    expect(target.calls).toEqual(['read', 'write', 'read']);
    expect([...outcomes.values()].map((o) => [o.status, o.added.length])).toEqual([
      ['granted', 2],
      ['granted', 2],
      ['granted', 2],
    ]);
    expect(target.stored().size).toBe(6);
  });

  it('plans without writing on a dry run', async () => {
    const target = fakeTarget({});
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], { ...noSleep, dryRun: true });
    expect(outcomes.get('a')).toMatchObject({
      status: 'planned',
      added: [
        'system:serviceaccount:ns-a:ns-a-scheduler-serviceaccount',
        'system:serviceaccount:ns-a:ns-a-worker-serviceaccount',
      ],
    });
    expect(target.calls).toEqual(['read']);
  });

  it('writes again when a concurrent writer erased the grant, and reports what it added', async () => {
    const target = fakeTarget({ afterWrite: (stored, writes) => (writes === 1 ? new Set(['someone-else']) : stored) });
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], noSleep);
    expect(target.calls).toEqual(['read', 'write', 'read', 'write', 'read']);
    expect(outcomes.get('a')).toMatchObject({
      status: 'granted',
      added: expect.arrayContaining([expect.stringContaining('ns-a')]),
    });
    expect(target.stored().has('someone-else')).toBe(true);
  });

  it('gives up after maxAttempts writes when the grant never sticks, as a retryable failure', async () => {
    const target = fakeTarget({ afterWrite: () => new Set() });
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], { ...noSleep, maxAttempts: 3 });
    expect(target.calls.filter((c) => c === 'write')).toHaveLength(2);
    expect(outcomes.get('a')).toMatchObject({
      status: 'failed',
      retryable: true,
      reason: expect.stringMatching(/another writer/),
    });
  });

  it('re-reads and re-plans after a write conflict (stale etag)', async () => {
    const target = fakeTarget({ writeErrors: [new WriteConflictError('etag is stale')] });
    const sleeps: number[] = [];
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], {
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 1,
    });
    expect(target.calls).toEqual(['read', 'write', 'read', 'write', 'read']);
    expect(outcomes.get('a')?.status).toBe('granted');
    expect(sleeps[0]).toBeGreaterThan(0);
  });

  it.each([
    ['a read', { readErrors: [new TargetError('the role does not exist', { retryable: false })] }, ['read']],
    ['a write', { writeErrors: [new TargetError('access denied', { retryable: false })] }, ['read', 'write']],
  ])('reports a failed %s for every request and stops', async (_name, options, calls) => {
    const target = fakeTarget(options);
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a'), request('b', 'ns-b')], noSleep);
    expect(target.calls).toEqual(calls);
    expect([...outcomes.values()].map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(outcomes.get('a')).toMatchObject({ retryable: false });
  });

  it('writes the grants that fit and reports the one that does not, with its remedies', async () => {
    const target = fakeTarget({ limit: 4 });
    const outcomes = await reconcileTarget(
      target.driver,
      [request('a', 'ns-a'), request('b', 'ns-b'), request('c', 'ns-c')],
      noSleep,
    );
    expect(outcomes.get('a')?.status).toBe('granted');
    expect(outcomes.get('b')?.status).toBe('granted');
    expect(outcomes.get('c')).toEqual({
      status: 'does-not-fit',
      added: [],
      reason: 'too many',
      remedies: ['use another target'],
    });
    expect(target.calls.filter((c) => c === 'write')).toHaveLength(1);
  });

  it('treats unexpected errors as retryable failures without throwing', async () => {
    const target = fakeTarget({ readErrors: [new Error('socket hang up')] });
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], noSleep);
    expect(outcomes.get('a')).toMatchObject({
      status: 'failed',
      retryable: true,
      reason: 'unexpected error: socket hang up',
    });
  });

  it('a refused write (throttled, 5xx) is never re-sent as is: re-read and re-planned, and failed as retryable after 3 in a row', async () => {
    const refused = () => new WriteRefusedError('iam:UpdateAssumeRolePolicy failed: Throttling');
    const once = fakeTarget({ writeErrors: [refused()] });
    const outcomes = await reconcileTarget(once.driver, [request('a', 'ns-a')], noSleep);
    expect(outcomes.get('a')?.status).toBe('granted');
    expect(once.calls).toEqual(['read', 'write', 'read', 'write', 'read']);
    const always = fakeTarget({ writeErrors: [refused(), refused(), refused(), refused()] });
    const failed = await reconcileTarget(always.driver, [request('a', 'ns-a')], noSleep);
    expect(failed.get('a')).toMatchObject({
      status: 'failed',
      retryable: true,
      reason: expect.stringMatching(/Throttling/),
    });
    expect(always.calls.filter((c) => c === 'write')).toHaveLength(3);
  });

  it('a lease that changed hands costs no backoff: the next read comes at once', async () => {
    const slept: number[] = [];
    const target = fakeTarget({ writeErrors: [new LeaseChangedError('the lease expired')] });
    const outcomes = await reconcileTarget(target.driver, [request('a', 'ns-a')], {
      sleep: async (ms) => void slept.push(ms),
      random: () => 0.5,
    });
    expect(outcomes.get('a')?.status).toBe('granted');
    expect(target.calls).toEqual(['read', 'write', 'read', 'write', 'read']);
    expect(slept).toEqual([]);
  });
});
