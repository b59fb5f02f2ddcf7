import { describe, expect, it } from 'vitest';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { GrantRequest, TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { handleOf } from '../../shared/reconcile/target-kind.ts';
import { TargetLanes } from '../../shared/reconcile/target-lanes.ts';

/** In-flight reads across every target that shares it: two kinds on one document must not overlap. */
interface Counter {
  inFlight: number;
  max: number;
}

function slowTarget(kind: 'aws-role' | 'aws-role-principal' = 'aws-role', document: Counter = { inFlight: 0, max: 0 }) {
  let stored = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  let writes = 0;
  const driver: TargetDriver<Set<string>> = {
    async read() {
      inFlight++;
      document.inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      document.max = Math.max(document.max, document.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      document.inFlight--;
      return new Set(stored);
    },
    plan(current, request) {
      const missing = request.grant.subjects.filter((s) => !current.has(s));
      return { changed: missing.length > 0, added: missing, present: [], next: new Set([...current, ...missing]) };
    },
    owned: (current) => new Set([...current].map((s) => s.split(':')[2] ?? '')),
    async write(_current, next) {
      writes++;
      stored = new Set(next);
    },
  };
  return {
    handle: handleOf(driver, { kind, needs: 'issuer', owner: 'namespace' }),
    stats: () => ({ maxInFlight, writes, size: stored.size }),
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

  it('gives each kind on one document its own round, in turn: a request only meets its own planner', async () => {
    const lanes = new TargetLanes();
    const document = { inFlight: 0, max: 0 };
    const irsa = slowTarget('aws-role', document);
    const principals = slowTarget('aws-role-principal', document);
    const [first, second, third] = await Promise.all([
      lanes.run('role', irsa.handle, [request(1)]),
      lanes.run('role', principals.handle, [request(2)]),
      lanes.run('role', irsa.handle, [request(3)]),
    ]);
    expect([first.get('k1')?.status, second.get('k2')?.status, third.get('k3')?.status]).toEqual([
      'granted',
      'granted',
      'granted',
    ]);
    // Requests 1 and 3 went through the IRSA handle (two rounds: the first ran alone), 2 through the principal one.
    expect([irsa.stats().size, principals.stats().size]).toEqual([2, 1]);
    expect(document.max).toBe(1);
  });
});
