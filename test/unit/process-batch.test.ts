import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import type { Target } from '../../shared/plan/targets.ts';
import { type BatchItem, processBatch } from '../../shared/reconcile/process-batch.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { apiDeployment } from '../support/deployments.ts';

const config = (extra = '') =>
  parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"]
${extra}`);

/** Records what each target was asked to grant; every target starts empty. */
function recordingDrivers() {
  const stores = new Map<string, Set<string>>();
  const writes: string[] = [];
  const factory = (target: Target): TargetDriver<Set<string>> => ({
    read: async () => new Set(stores.get(target.id) ?? []),
    plan: (current, request) => {
      if (request.action === 'revoke') {
        const removed = [...current].filter((s) => s.split(':')[2] === request.grant.namespace);
        return {
          changed: removed.length > 0,
          added: removed,
          next: new Set([...current].filter((s) => !removed.includes(s))),
        };
      }
      const missing = request.grant.subjects.filter((s) => !current.has(s));
      return { changed: missing.length > 0, added: missing, next: new Set([...current, ...missing]) };
    },
    owned: (current) => new Set([...current].map((s) => s.split(':')[2] ?? '')),
    write: async (_current, next) => {
      writes.push(target.id);
      stores.set(target.id, next);
    },
  });
  return { stores, writes, drivers: { aws: factory as (target: Target) => TargetDriver<unknown> } };
}

const item = (overrides: Record<string, unknown> = {}, type: BatchItem['type'] = 'deployment.created'): BatchItem => ({
  eventId: `evt-${String(overrides.namespace ?? 'default')}`,
  type,
  deployment: deploymentSchema.parse(apiDeployment(overrides)),
});

describe('processBatch', () => {
  it('groups events on one role into one write and reports per event, in order', async () => {
    const { writes, drivers, stores } = recordingDrivers();
    const reports = await processBatch([item({ namespace: 'ns-one' }), item({ namespace: 'ns-two' })], {
      config: config(),
      drivers,
    });
    expect(writes).toEqual(['arn:aws:iam::123456789012:role/astro-data']);
    expect(reports.map((r) => [r.eventId, r.results.map((x) => [x.status, x.added.length])])).toEqual([
      ['evt-ns-one', [['granted', 6]]],
      ['evt-ns-two', [['granted', 6]]],
    ]);
    expect(stores.get('arn:aws:iam::123456789012:role/astro-data')?.size).toBe(12);
  });

  it('refuses an Airflow 1 Deployment from the API instead of granting it the Airflow 3 set', async () => {
    const { writes, drivers } = recordingDrivers();
    const [report] = await processBatch([item({ namespace: 'ns-old', airflowVersion: '1.10.15' })], {
      config: config(),
      drivers,
    });
    expect(report?.results).toHaveLength(1);
    expect(report?.results[0]?.status).not.toMatch(/granted|planned|unchanged/);
    expect(report?.results[0]?.added).toEqual([]);
    expect(report?.results[0]?.reason).toMatch(/airflowVersion: .*Astro does not run Airflow 1/);
    expect(writes).toEqual([]);
  });

  it.each([
    [
      'a role outside the allowlist',
      { effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/admin' },
      /aws\.allowedRoles/,
    ],
    [
      'a cloud this function does not serve',
      { effectiveWorkloadIdentity: 'astro-sync@acme-data.iam.gserviceaccount.com' },
      /not in gcp\.allowedServiceAccounts/,
    ],
  ])('denies %s without touching it', async (_name, overrides, reason) => {
    const { writes, drivers } = recordingDrivers();
    const [report] = await processBatch([item(overrides)], { config: config(), drivers });
    expect(report?.results).toEqual([
      expect.objectContaining({ status: 'denied', reason: expect.stringMatching(reason) }),
    ]);
    expect(writes).toEqual([]);
  });

  it('says which function to deploy when an allowed target belongs to another cloud', async () => {
    const { drivers } = recordingDrivers();
    const gcp = config(
      `gcp:\n  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: acme-gke.svc.id.goog }`,
    );
    const [report] = await processBatch(
      [item({ effectiveWorkloadIdentity: 'astro-sync@acme-data.iam.gserviceaccount.com' })],
      { config: gcp, drivers },
    );
    expect(report?.results[0]).toMatchObject({
      cloud: 'gcp',
      status: 'denied',
      reason: expect.stringMatching(/deploy the gcp function/),
    });
  });

  it('fails a target whose Deployment has no issuer, or an issuer outside allowedIssuers', async () => {
    const { writes, drivers } = recordingDrivers();
    const strict = config('allowedIssuers: ["https://oidc.eks.*.amazonaws.com/id/*"]');
    const reports = await processBatch(
      [item({ oidcIssuerUrl: null }), item({ namespace: 'ns-x', oidcIssuerUrl: 'https://evil.example.com/id/1' })],
      {
        config: strict,
        drivers,
      },
    );
    expect(reports.map((r) => r.results[0]?.reason)).toEqual([
      expect.stringMatching(/no oidcIssuerUrl/),
      expect.stringMatching(/not in allowedIssuers/),
    ]);
    expect(writes).toEqual([]);
  });

  it('uses the namespace wildcard only on DEDICATED clusters when enabled', async () => {
    const { stores, drivers } = recordingDrivers();
    const wild = config('wildcard:\n  enabled: true');
    await processBatch(
      [item({ namespace: 'ns-ded', type: 'DEDICATED' }), item({ namespace: 'ns-std', type: 'STANDARD' })],
      { config: wild, drivers },
    );
    const subjects = [...(stores.get('arn:aws:iam::123456789012:role/astro-data') ?? [])];
    expect(subjects).toContain('system:serviceaccount:ns-ded:*');
    expect(subjects.filter((s) => s.startsWith('system:serviceaccount:ns-std:'))).toHaveLength(6);
    expect(subjects.some((s) => s.includes('*:*'))).toBe(false);
  });

  it('adds rule targets with their own components; a deleted event only reads (prune is off)', async () => {
    const { stores, drivers } = recordingDrivers();
    const rules = config(`targets:
  - name: shared
    match: { names: ["etl-*"] }
    aws: { roleArn: "arn:aws:iam::123456789012:role/astro-shared" }
    components: [scheduler]`);
    const reports = await processBatch([item(), item({ namespace: 'gone' }, 'deployment.deleted')], {
      config: rules,
      drivers,
    });
    expect(reports[0]?.results.map((r) => r.target)).toEqual([
      'arn:aws:iam::123456789012:role/astro-data',
      'arn:aws:iam::123456789012:role/astro-shared',
    ]);
    expect([...(stores.get('arn:aws:iam::123456789012:role/astro-shared') ?? [])]).toEqual([
      'system:serviceaccount:nebular-gravity-1234:nebular-gravity-1234-scheduler-serviceaccount',
    ]);
    // prune is off and the deleted namespace has no entries: each target is read once and reported up to date.
    expect(reports[1]?.results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
  });
});

describe('processBatch: deleted Deployments', () => {
  it('reports stale entries with prune off and removes only that namespace with prune on', async () => {
    for (const prune of [false, true]) {
      const { stores, writes, drivers } = recordingDrivers();
      const role = 'arn:aws:iam::123456789012:role/astro-data';
      await processBatch([item({ namespace: 'keep-me' }), item({ namespace: 'gone-ns' })], {
        config: config(),
        drivers,
      });
      const before = writes.length;
      const [report] = await processBatch([item({ namespace: 'gone-ns' }, 'deployment.deleted')], {
        config: config(`prune: ${prune}`),
        drivers,
      });
      expect(report?.results[0]).toMatchObject({ status: prune ? 'revoked' : 'stale' });
      expect(report?.results[0]?.added).toHaveLength(6);
      expect(writes.length - before).toBe(prune ? 1 : 0);
      const left = [...(stores.get(role) ?? [])];
      expect(left.filter((s) => s.includes(':gone-ns:'))).toHaveLength(prune ? 0 : 6);
      expect(left.filter((s) => s.includes(':keep-me:'))).toHaveLength(6);
    }
  });
});
