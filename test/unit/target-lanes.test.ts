import { describe, expect, it } from 'vitest';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { GrantRequest, TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { handleOf, type TargetKindName } from '../../shared/reconcile/target-kind.ts';
import { TargetLanes } from '../../shared/reconcile/target-lanes.ts';

/** One document; `tag` marks what this handle's planner wrote, so a request planned by another kind shows. */
function slowTarget(kind: TargetKindName = 'aws-role', shared?: { stored: Set<string> }) {
  const store = shared ?? { stored: new Set<string>() };
  let inFlight = 0;
  let maxInFlight = 0;
  let writes = 0;
  const driver: TargetDriver<Set<string>> = {
    async read() {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return new Set(store.stored);
    },
    plan(current, request) {
      const missing = request.grant.subjects.map((s) => `${kind}=${s}`).filter((s) => !current.has(s));
      return { changed: missing.length > 0, added: missing, present: [], next: new Set([...current, ...missing]) };
    },
    owned: (current) => new Set([...current].map((s) => s.split(':')[2] ?? '')),
    async write(_current, next) {
      writes++;
      store.stored = new Set(next);
    },
  };
  return {
    handle: handleOf(driver, { kind, needs: 'issuer', owner: 'namespace' }),
    stats: () => ({ maxInFlight, writes, size: store.stored.size }),
    stored: () => [...store.stored],
  };
}

const request = (i: number): GrantRequest => ({
  key: `k${i}`,
  issuer: undefined,
  grant: desiredGrant({ namespace: `ns-${i}`, selection: { components: ['scheduler'] } }),
});

describe('TargetLanes', () => {
  it('runs one round at a time per target and folds what queued meanwhile into one write', async () => {
    const lanes = new TargetLanes();
    const target = slowTarget();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => lanes.run('t', target.handle, [request(i)])),
    );
    expect(results.map((r) => r.get(`k${results.indexOf(r)}`)?.status)).toEqual(Array(20).fill('granted'));
    const stats = target.stats();
    expect(stats.size).toBe(20);
    expect(stats.maxInFlight).toBe(1);
    // The first event runs alone; the 19 that queued behind it share the second write.
    expect(stats.writes).toBe(2);
    expect(lanes.busy).toBe(0);
  });

  it('never folds a dry run into a real write', async () => {
    const lanes = new TargetLanes();
    const target = slowTarget();
    const [real, dry, real2] = await Promise.all([
      lanes.run('t', target.handle, [request(1)]),
      lanes.run('t', target.handle, [request(2)], { dryRun: true }),
      lanes.run('t', target.handle, [request(3)]),
    ]);
    expect(real.get('k1')?.status).toBe('granted');
    expect(dry.get('k2')?.status).toBe('planned');
    expect(real2.get('k3')?.status).toBe('granted');
    expect(target.stats().size).toBe(2);
  });

  it('keeps different targets independent', async () => {
    const lanes = new TargetLanes();
    const a = slowTarget();
    const b = slowTarget();
    await Promise.all([lanes.run('a', a.handle, [request(1)]), lanes.run('b', b.handle, [request(2)])]);
    expect([a.stats().writes, b.stats().writes]).toEqual([1, 1]);
  });

  it('plans each request with a handle of its own kind when kinds share a lane (one document)', async () => {
    const lanes = new TargetLanes();
    const shared = { stored: new Set<string>() };
    const wiu = slowTarget('gcp-service-account', shared);
    const tokenCreator = slowTarget('gcp-service-account-token-creator', shared);
    // The first round runs alone; the next three queue behind it, two kinds mixed.
    const results = await Promise.all([
      lanes.run('gcp|sa', wiu.handle, [request(1)]),
      lanes.run('gcp|sa', tokenCreator.handle, [request(2)]),
      lanes.run('gcp|sa', wiu.handle, [request(3)]),
      lanes.run('gcp|sa', tokenCreator.handle, [request(4)]),
    ]);
    expect(results.map((r, i) => r.get(`k${i + 1}`)?.status)).toEqual(Array(4).fill('granted'));
    const kindOf = (ns: string) =>
      wiu
        .stored()
        .filter((s) => s.includes(`:${ns}:`))
        .map((s) => s.split('=')[0]);
    expect([kindOf('ns-1'), kindOf('ns-2'), kindOf('ns-3'), kindOf('ns-4')]).toEqual([
      ['gcp-service-account'],
      ['gcp-service-account-token-creator'],
      ['gcp-service-account'],
      ['gcp-service-account-token-creator'],
    ]);
  });
});
