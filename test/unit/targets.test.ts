import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { createAllowlists, resolveTargets, ruleMatches } from '../../shared/plan/targets.ts';
import { makeDeployment, ROLE_ARN, SUBSCRIPTION_ID } from '../support/fixtures.ts';

const GSA = 'astro-sync@customer-project.iam.gserviceaccount.com';
const ARM = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-astro/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-astro`;
const OPEN = `
aws: { allowedRoles: ['arn:aws:iam::123456789012:role/**'] }
gcp:
  allowedServiceAccounts: ['*@customer-project.iam.gserviceaccount.com']
  pools: { default: default-pool.svc.id.goog, byClusterId: { cluster-a: cluster-a-pool.svc.id.goog } }
azure: { allowedIdentities: ['${SUBSCRIPTION_ID}/*/*'] }
`;

describe("resolveTargets: the Deployment's own workload identity", () => {
  it.each([
    ['a role ARN', ROLE_ARN, { kind: 'aws-role', cloud: 'aws', id: ROLE_ARN, roleArn: ROLE_ARN }],
    [
      'a GCP service account',
      GSA,
      { kind: 'gcp-service-account', cloud: 'gcp', id: GSA, serviceAccount: GSA, pool: 'cluster-a-pool.svc.id.goog' },
    ],
    [
      'an ARM identity id',
      ARM,
      {
        kind: 'azure-identity',
        cloud: 'azure',
        id: `${SUBSCRIPTION_ID}/rg-astro/mi-astro`,
        subscriptionId: SUBSCRIPTION_ID,
        resourceGroup: 'rg-astro',
        identityName: 'mi-astro',
      },
    ],
  ])('turns %s into a target', (_label, identity, target) => {
    const resolved = resolveTargets(parseConfig(OPEN), makeDeployment({ effectiveWorkloadIdentity: identity }));
    expect(resolved).toEqual([
      {
        target,
        source: 'effectiveWorkloadIdentity',
        components: undefined,
        componentSets: [undefined],
        clusters: ['primary'],
        denied: undefined,
      },
    ]);
  });

  it.each([
    ['an unknown identity', 'someone@example.com'],
    ['a user ARN', 'arn:aws:iam::123456789012:user/u'],
    ['no identity', null],
  ])('ignores %s', (_label, identity) => {
    expect(resolveTargets(parseConfig(OPEN), makeDeployment({ effectiveWorkloadIdentity: identity }))).toEqual([]);
  });

  it('ignores role ARNs and service accounts when the config turns that off', () => {
    const config = parseConfig(`${OPEN}\n`.replace("role/**'] }", "role/**'], useEffectiveWorkloadIdentity: false }"));
    expect(config.aws.useEffectiveWorkloadIdentity).toBe(false);
    expect(resolveTargets(config, makeDeployment({ effectiveWorkloadIdentity: ROLE_ARN }))).toEqual([]);
  });

  it('uses the default pool for other clusters and denies a GCP target without a pool', () => {
    const other = makeDeployment({ effectiveWorkloadIdentity: GSA, clusterId: 'cluster-b' });
    expect(resolveTargets(parseConfig(OPEN), other)[0]?.target).toMatchObject({ pool: 'default-pool.svc.id.goog' });
    const noPool = parseConfig("gcp: { allowedServiceAccounts: ['*@customer-project.iam.gserviceaccount.com'] }");
    const [resolved] = resolveTargets(noPool, other);
    expect(resolved?.target).toMatchObject({ cloud: 'gcp', pool: undefined });
    expect(resolved?.denied).toMatch(/gcp\.pools\.byClusterId, gcp\.pools\.byIssuer or gcp\.pools\.default/);
  });

  it.each([
    [ROLE_ARN, 'aws.allowedRoles'],
    [GSA, 'gcp.allowedServiceAccounts'],
    [ARM, 'azure.allowedIdentities'],
  ])('denies %s outside the allowlist, naming %s', (identity, setting) => {
    for (const text of ['', "aws: { allowedRoles: ['arn:aws:iam::123456789012:role/other'] }"]) {
      const [resolved] = resolveTargets(parseConfig(text), makeDeployment({ effectiveWorkloadIdentity: identity }));
      expect(resolved?.denied).toContain(setting);
      expect(resolved?.denied).toContain('is not in');
    }
  });

  it('does not let a single * cross "/" in a role path', () => {
    const config = parseConfig("aws: { allowedRoles: ['arn:aws:iam::123456789012:role/*'] }");
    const nested = 'arn:aws:iam::123456789012:role/team/astro';
    expect(resolveTargets(config, makeDeployment({ effectiveWorkloadIdentity: nested }))[0]?.denied).toContain(
      'aws.allowedRoles',
    );
    expect(resolveTargets(config, makeDeployment({ effectiveWorkloadIdentity: ROLE_ARN }))[0]?.denied).toBeUndefined();
  });
});

describe('resolveTargets: config rules', () => {
  const RULES = `${OPEN}
targets:
  - name: analytics
    match: { workspaceIds: [ws-analytics], cloudProviders: [AWS] }
    aws: { roleArn: 'arn:aws:iam::123456789012:role/analytics' }
    components: [scheduler, worker]
  - match: { names: ['etl-*'], clusterIds: [cluster-a] }
    gcp: { serviceAccount: ${GSA}, pool: rule-pool.svc.id.goog }
  - match: { clusterTypes: [STANDARD] }
    azure: { subscriptionId: ${SUBSCRIPTION_ID}, resourceGroup: rg, identityName: mi-standard }
  - match: { all: true }
    aws: { roleArn: '${ROLE_ARN}' }
`;
  const config = parseConfig(RULES);
  const ids = (overrides: Record<string, unknown>) =>
    resolveTargets(config, makeDeployment(overrides)).map((r) => `${r.source} -> ${r.target.id}`);

  it('applies every matching rule with its components and source', () => {
    const resolved = resolveTargets(config, makeDeployment());
    expect(resolved.map((r) => [r.source, r.target.id, r.components, r.denied])).toEqual([
      ['rule analytics', 'arn:aws:iam::123456789012:role/analytics', ['scheduler', 'worker'], undefined],
      ['rule #1', GSA, undefined, undefined],
      ['rule #3', ROLE_ARN, undefined, undefined],
    ]);
    expect(resolved[1]?.target).toMatchObject({ pool: 'rule-pool.svc.id.goog' });
  });

  it.each([
    ['another workspace', { workspaceId: 'ws-other' }, ['rule #1', 'rule #3']],
    ['no workspace', { workspaceId: null }, ['rule #1', 'rule #3']],
    ['another cloud', { cloudProvider: 'GCP' }, ['rule #1', 'rule #3']],
    ['a name outside the glob', { name: 'ml-train' }, ['rule analytics', 'rule #3']],
    ['another cluster', { clusterId: 'cluster-b' }, ['rule analytics', 'rule #3']],
    ['a STANDARD cluster', { type: 'STANDARD' }, ['rule analytics', 'rule #1', 'rule #2', 'rule #3']],
    ['no cluster type', { type: null, clusterId: null, workspaceId: null }, ['rule #3']],
  ])('matches with AND across keys: %s', (_label, overrides, sources) => {
    expect(ids(overrides).map((line) => line.split(' -> ')[0])).toEqual(sources);
  });

  it('deduplicates a target named twice, keeping the first source and every component list', () => {
    const resolved = resolveTargets(config, makeDeployment({ effectiveWorkloadIdentity: ROLE_ARN }));
    expect(resolved.filter((r) => r.target.id === ROLE_ARN)).toEqual([
      {
        target: { kind: 'aws-role', cloud: 'aws', id: ROLE_ARN, roleArn: ROLE_ARN },
        source: 'effectiveWorkloadIdentity',
        components: undefined,
        componentSets: [undefined, undefined],
        // The Deployment's own identity asks for its primary cluster, the rule for both: the union.
        clusters: ['primary', 'dr'],
        denied: undefined,
      },
    ]);
    expect(resolved).toHaveLength(3);
  });

  it('checks rule targets against the allowlist too', () => {
    const closed = parseConfig(RULES.replace("role/**'", "role/analytics'"));
    const denied = resolveTargets(closed, makeDeployment()).filter((r) => r.denied !== undefined);
    expect(denied.map((r) => r.target.id)).toEqual([ROLE_ARN]);
  });

  it('uses injected allowlists', () => {
    const allowlists = { ...createAllowlists(config), aws: () => false };
    const resolved = resolveTargets(config, makeDeployment(), allowlists);
    expect(resolved.filter((r) => r.target.cloud === 'aws').every((r) => r.denied?.includes('aws.allowedRoles'))).toBe(
      true,
    );
    expect(resolved.find((r) => r.target.cloud === 'gcp')?.denied).toBeUndefined();
  });

  it('ruleMatches treats match: { all: true } as matching every Deployment', () => {
    const [rule] = parseConfig(`targets: [{ match: { all: true }, aws: { roleArn: '${ROLE_ARN}' } }]`).targets;
    if (rule === undefined) throw new Error('expected a rule');
    expect(ruleMatches(rule, makeDeployment({ workspaceId: null, clusterId: null, type: null }))).toBe(true);
  });
});
