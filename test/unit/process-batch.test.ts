import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import { type BatchItem, processBatch } from '../../shared/reconcile/process-batch.ts';
import { apiDeployment } from '../support/deployments.ts';
import { memoryTargets } from '../support/memory-targets.ts';

const config = (extra = '') =>
  parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"]
${extra}`);

const item = (overrides: Record<string, unknown> = {}, type: BatchItem['type'] = 'deployment.created'): BatchItem => ({
  eventId: `evt-${String(overrides.namespace ?? 'default')}`,
  type,
  deployment: deploymentSchema.parse(apiDeployment(overrides)),
});

describe('processBatch', () => {
  it('groups events on one role into one write and reports per event, in order', async () => {
    const { writes, targets, stores } = memoryTargets();
    const reports = await processBatch([item({ namespace: 'ns-one' }), item({ namespace: 'ns-two' })], {
      config: config(),
      targets,
    });
    expect(writes).toEqual(['arn:aws:iam::123456789012:role/astro-data']);
    expect(reports.map((r) => [r.eventId, r.results.map((x) => [x.status, x.added.length])])).toEqual([
      ['evt-ns-one', [['granted', 6]]],
      ['evt-ns-two', [['granted', 6]]],
    ]);
    expect(stores.get('arn:aws:iam::123456789012:role/astro-data')?.size).toBe(12);
  });

  it('refuses an Airflow 1 Deployment from the API instead of granting it the Airflow 3 set', async () => {
    const { writes, targets } = memoryTargets();
    const [report] = await processBatch([item({ namespace: 'ns-old', airflowVersion: '1.10.15' })], {
      config: config(),
      targets,
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
    const { writes, targets } = memoryTargets();
    const [report] = await processBatch([item(overrides)], { config: config(), targets });
    expect(report?.results).toEqual([
      expect.objectContaining({ status: 'denied', reason: expect.stringMatching(reason) }),
    ]);
    expect(writes).toEqual([]);
  });

  it('says which function to deploy when an allowed target belongs to another cloud', async () => {
    const { targets } = memoryTargets();
    const gcp = config(
      `gcp:\n  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]\n  pools: { default: acme-gke.svc.id.goog }`,
    );
    const [report] = await processBatch(
      [item({ effectiveWorkloadIdentity: 'astro-sync@acme-data.iam.gserviceaccount.com' })],
      { config: gcp, targets },
    );
    expect(report?.results[0]).toMatchObject({
      cloud: 'gcp',
      status: 'denied',
      reason: expect.stringMatching(/deploy the gcp function/),
    });
  });

  it('fails a target whose Deployment has no issuer, or an issuer outside allowedIssuers', async () => {
    const { writes, targets } = memoryTargets();
    const strict = config('allowedIssuers: ["https://oidc.eks.*.amazonaws.com/id/*"]');
    const reports = await processBatch(
      [item({ oidcIssuerUrl: null }), item({ namespace: 'ns-x', oidcIssuerUrl: 'https://evil.example.com/id/1' })],
      {
        config: strict,
        targets,
      },
    );
    expect(reports.map((r) => r.results[0]?.reason)).toEqual([
      expect.stringMatching(/no oidcIssuerUrl/),
      expect.stringMatching(/not in allowedIssuers/),
    ]);
    expect(writes).toEqual([]);
  });

  it('uses the namespace wildcard only on DEDICATED clusters when enabled', async () => {
    const { stores, targets } = memoryTargets();
    const wild = config('wildcard:\n  enabled: true');
    await processBatch(
      [item({ namespace: 'ns-ded', type: 'DEDICATED' }), item({ namespace: 'ns-std', type: 'STANDARD' })],
      { config: wild, targets },
    );
    const subjects = [...(stores.get('arn:aws:iam::123456789012:role/astro-data') ?? [])];
    expect(subjects).toContain('system:serviceaccount:ns-ded:*');
    expect(subjects.filter((s) => s.startsWith('system:serviceaccount:ns-std:'))).toHaveLength(6);
    expect(subjects.some((s) => s.includes('*:*'))).toBe(false);
  });

  it('adds rule targets with their own components; a deleted event only reads (prune is off)', async () => {
    const { stores, targets } = memoryTargets();
    const rules = config(`targets:
  - name: shared
    match: { names: ["etl-*"] }
    aws: { roleArn: "arn:aws:iam::123456789012:role/astro-shared" }
    components: [scheduler]`);
    const reports = await processBatch([item(), item({ namespace: 'gone' }, 'deployment.deleted')], {
      config: rules,
      targets,
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
      const { stores, writes, targets } = memoryTargets();
      const role = 'arn:aws:iam::123456789012:role/astro-data';
      await processBatch([item({ namespace: 'keep-me' }), item({ namespace: 'gone-ns' })], {
        config: config(),
        targets,
      });
      const before = writes.length;
      const [report] = await processBatch([item({ namespace: 'gone-ns' }, 'deployment.deleted')], {
        config: config(
          `prune: ${prune}\nastro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }`,
        ),
        targets,
      });
      expect(report?.results[0]).toMatchObject({ status: prune ? 'revoked' : 'stale' });
      // A revoke lists what it removed (or, with prune off, what prune would remove), never as "added".
      expect(report?.results[0]?.removed).toHaveLength(6);
      expect(report?.results[0]?.added).toEqual([]);
      expect(writes.length - before).toBe(prune ? 1 : 0);
      const left = [...(stores.get(role) ?? [])];
      expect(left.filter((s) => s.includes(':gone-ns:'))).toHaveLength(prune ? 0 : 6);
      expect(left.filter((s) => s.includes(':keep-me:'))).toHaveLength(6);
    }
  });
});
