import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoLease } from '../../functions/aws/dynamodb-lease.ts';
import { type LocalDynamo, startLocalDynamo } from '../../local/dynamodb-local.ts';
import { LeaseChangedError, TargetError } from '../../shared/errors.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { GrantRequest, TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { reconcileLeased } from '../../shared/reconcile/target-lease.ts';

/** One clock for every writer in a test, moved by hand: expiry without waiting. */
function clock(start = 1_000_000) {
  let at = start;
  return { now: () => at, advance: (ms: number) => (at += ms) };
}

describe('the per-target write lease in DynamoDB (dynalite behind the real client)', () => {
  let dynamo: LocalDynamo;
  let n = 0;
  const key = () => `role#arn:aws:iam::123456789012:role/lease-${++n}`;
  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(() => dynamo.close());

  const lease = (time: ReturnType<typeof clock>, options: { waitMs?: number } = {}) =>
    createDynamoLease(dynamo.client(), dynamo.table, {
      ttlMs: 1_000,
      waitMs: options.waitMs ?? 0,
      pollMs: 1,
      now: time.now,
      // Waiting moves the shared clock, so a held lease expires while another writer polls for it.
      sleep: async (ms) => {
        time.advance(Math.max(ms, 50));
        await new Promise((resolve) => setImmediate(resolve));
      },
    });

  async function item(k: string) {
    return (
      await dynamo.client().send(new GetItemCommand({ TableName: dynamo.table, Key: { pk: { S: `lease#${k}` } } }))
    ).Item;
  }

  it('acquires a free lease, fences while it holds it, and releases it', async () => {
    const time = clock();
    const k = key();
    const hold = await lease(time).acquire(k);
    expect((await item(k))?.expiresAt).toEqual({ N: String(time.now() + 1_000) });
    time.advance(900);
    await hold.fence();
    // The fence extends the lease: the write it guards has the whole lease time to land.
    expect((await item(k))?.expiresAt).toEqual({ N: String(time.now() + 1_000) });
    await hold.release();
    expect(await item(k)).toBeUndefined();
  });

  it('contention: a second writer cannot take a held lease and gives up, retryable, after its wait budget', async () => {
    const time = clock();
    const k = key();
    const first = await lease(time).acquire(k);
    const refused = await lease(time, { waitMs: 0 })
      .acquire(k)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TargetError);
    expect(refused).toMatchObject({
      retryable: true,
      message: expect.stringMatching(/another writer has held the lease/),
    });
    await first.release();
    const second = await lease(time).acquire(k);
    await second.fence();
    await second.release();
  });

  it('a waiting writer gets the lease as soon as the holder releases it', async () => {
    const time = clock();
    const k = key();
    const first = await lease(time).acquire(k);
    const waiting = lease(clock(time.now()), { waitMs: 10_000 }).acquire(k);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await first.release();
    const second = await waiting;
    await second.fence();
    await second.release();
  });

  it('expiry: a lease its holder stopped renewing is free after its time, and the old holder may not write', async () => {
    const time = clock();
    const k = key();
    const stale = await lease(time).acquire(k);
    time.advance(1_001);
    await expect(stale.fence()).rejects.toBeInstanceOf(LeaseChangedError);
    // Nobody took it: the old holder can take it again (and then fence) as a new holder would.
    const again = await lease(time).acquire(k);
    await again.fence();
    await again.release();
  });

  it('stolen: after an expiry another writer takes it; the old holder is fenced off and its release leaves the new lease', async () => {
    const time = clock();
    const k = key();
    const old = await lease(time).acquire(k);
    // A waiting writer polls until the lease expires (its sleeps move the clock), then takes it.
    const thief = await lease(time, { waitMs: 5_000 }).acquire(k);
    expect(time.now()).toBeGreaterThan(1_000_000 + 1_000);
    await expect(old.fence()).rejects.toBeInstanceOf(LeaseChangedError);
    await old.release();
    expect(await item(k)).toBeDefined();
    await thief.fence();
    await thief.release();
    expect(await item(k)).toBeUndefined();
  });

  it('reconcileLeased: a writer whose lease was stolen before its write sends nothing, takes it again, re-reads and re-plans', async () => {
    const time = clock();
    const k = key();
    let stored = new Set<string>(['theirs-0']);
    const calls: string[] = [];
    const driver: TargetDriver<Set<string>> = {
      async read() {
        calls.push('read');
        const read = new Set(stored);
        if (calls.length === 1) {
          // Right after our read, our lease expires; another writer takes it, writes, and releases it a little later.
          time.advance(1_001);
          const thief = await lease(time).acquire(k);
          stored = new Set([...stored, 'theirs-1']);
          setTimeout(() => void thief.release(), 20);
        }
        return read;
      },
      plan(current, request) {
        const missing = request.grant.subjects.filter((s) => !current.has(s));
        return { changed: missing.length > 0, added: missing, present: [], next: new Set([...current, ...missing]) };
      },
      owned: () => new Set(),
      async write(_current, next) {
        calls.push('write');
        stored = new Set(next);
        return undefined;
      },
    };
    const request: GrantRequest = {
      key: 'a',
      issuer: undefined,
      grant: desiredGrant({ namespace: 'ns-a', selection: { components: ['scheduler'] } }),
    };
    const writer = createDynamoLease(dynamo.client(), dynamo.table, {
      ttlMs: 1_000,
      waitMs: 5_000,
      pollMs: 1,
      now: time.now,
    });
    const outcomes = await reconcileLeased(driver, writer, k, [request], { sleep: async () => undefined });
    expect(outcomes.get('a')?.status).toBe('granted');
    // The write planned from the read before the other writer's never went out; the grant was planned again on top.
    expect(calls).toEqual(['read', 'read', 'write', 'read']);
    expect([...stored].sort()).toEqual(['theirs-0', 'theirs-1', ...request.grant.subjects].sort());
    expect(await item(k)).toBeUndefined();
  });

  it('reconcileLeased: a dry run never takes the lease', async () => {
    const time = clock();
    const k = key();
    const request: GrantRequest = {
      key: 'a',
      issuer: undefined,
      grant: desiredGrant({ namespace: 'ns-a', selection: { components: ['scheduler'] } }),
    };
    const acquired: string[] = [];
    const base = lease(time);
    const counting = {
      acquire: (name: string) => {
        acquired.push(name);
        return base.acquire(name);
      },
    };
    const driver: TargetDriver<Set<string>> = {
      read: async () => new Set(),
      plan: (current, r) => ({ changed: true, added: r.grant.subjects, present: [], next: current }),
      owned: () => new Set(),
      write: async () => {
        throw new Error('a dry run must not write');
      },
    };
    const planned = await reconcileLeased(driver, counting, k, [request], { dryRun: true });
    expect(planned.get('a')?.status).toBe('planned');
    expect(acquired).toEqual([]);
  });
});
