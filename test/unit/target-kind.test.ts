import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { Target } from '../../shared/plan/targets.ts';
import { driverFor, registerKind, TargetRegistry } from '../../shared/reconcile/target-kind.ts';
import { subjectSetKind } from '../support/memory-targets.ts';

const role: Target = { kind: 'aws-role', cloud: 'aws', id: 'arn:aws:iam::123456789012:role/r', roleArn: 'x' };
const sa: Target = {
  kind: 'gcp-service-account',
  cloud: 'gcp',
  id: 'a@b.iam.gserviceaccount.com',
  serviceAccount: 'a@b.iam.gserviceaccount.com',
  pool: undefined,
};
const grant = desiredGrant({ namespace: 'ns-one', selection: { components: ['scheduler', 'worker'] } });

describe('target kinds: one planner, one I/O, one registration', () => {
  it('binds only the kinds it registered; anything else is not managed', () => {
    const registry = new TargetRegistry([
      registerKind(subjectSetKind, () => ({ read: async () => new Set(), write: async () => undefined })),
    ]);
    expect(registry.kinds).toEqual(['aws-role']);
    expect(registry.manages(role)).toBe(true);
    expect(registry.manages(sa)).toBe(false);
    expect(registry.bind(sa)).toBeUndefined();
    expect(registry.bind(role)?.needs).toBe('issuer');
  });

  it('routes a revoke to the planner revoke and reports what it removed, not what it added', () => {
    const driver = driverFor(subjectSetKind, { read: async () => new Set(), write: async () => undefined }, role);
    const current = new Set([...grant.subjects, 'system:serviceaccount:other-ns:other-ns-kpo']);
    const plan = driver.plan(current, { key: 'k', grant, issuer: undefined, action: 'revoke' });
    expect(plan).toMatchObject({ changed: true, added: [], removed: [...grant.subjects] });
    expect([...plan.next]).toEqual(['system:serviceaccount:other-ns:other-ns-kpo']);
  });

  it('refuses a grant without an issuer for kinds that need one, before the planner runs', () => {
    let planned = false;
    const kind = {
      ...subjectSetKind,
      grant: (...args: Parameters<typeof subjectSetKind.grant>) => {
        planned = true;
        return subjectSetKind.grant(...args);
      },
    };
    const driver = driverFor(kind, { read: async () => new Set(), write: async () => undefined }, role);
    expect(() => driver.plan(new Set(), { key: 'k', grant, issuer: undefined })).toThrow(ValidationError);
    expect(planned).toBe(false);
    expect(driver.plan(new Set(), { key: 'k', grant, issuer: 'https://oidc.example.com' }).added).toHaveLength(2);
  });

  it('reads through the I/O for the owned namespaces and reconciles with one write', async () => {
    let stored = new Set<string>(['system:serviceaccount:old-ns:old-ns-kpo']);
    let writes = 0;
    const handle = registerKind(subjectSetKind, () => ({
      read: async () => new Set(stored),
      write: async (_current, next) => {
        writes += 1;
        stored = next;
      },
    })).bind(role);
    expect([...((await handle?.owned()) ?? [])]).toEqual(['old-ns']);
    const outcomes = await handle?.reconcile([{ key: 'k', grant, issuer: 'https://oidc.example.com' }]);
    expect(outcomes?.get('k')).toMatchObject({ status: 'granted', added: [...grant.subjects] });
    expect(writes).toBe(1);
    const again = await handle?.reconcile([{ key: 'k', grant, issuer: 'https://oidc.example.com' }]);
    // A converged target: read only, and what it already had is reported as present.
    expect(again?.get('k')).toMatchObject({ status: 'unchanged', added: [], present: [...grant.subjects] });
    expect(writes).toBe(1);
  });
});
