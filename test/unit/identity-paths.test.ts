import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { deploymentSchema } from '../../shared/intake/deployment.ts';
import type { TrustPolicyDocument } from '../../shared/plan/aws/policy-document.ts';
import { azureIdentityKind, type CredentialList } from '../../shared/plan/azure/identity-kind.ts';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { gcpServiceAccountKind } from '../../shared/plan/gcp/service-account-kind.ts';
import { type BatchItem, processBatch } from '../../shared/reconcile/process-batch.ts';
import { registerKind, type TargetKind, TargetRegistry } from '../../shared/reconcile/target-kind.ts';
import { apiDeployment, ISSUER_AWS } from '../support/deployments.ts';
import { memoryRoles } from '../support/memory-roles.ts';

const ACCOUNT = '123456789012';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const DR_ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/DR0000000000000000000000000000AB';
const ASTRO_WI = 'arn:aws:iam::999999999999:role/astro-wi-nebular-gravity-1234';
const ASTRO_WI_DR = 'arn:aws:iam::999999999999:role/astro-wi-dr-nebular-gravity-1234';
const EMPTY: TrustPolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Ec2', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

const config = (extra = '') =>
  parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::${ACCOUNT}:role/astro-*", "arn:aws:iam::${ACCOUNT}:role/shared-*"]
  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::999999999999:role/astro-wi-*"]
${extra}`);

const item = (overrides: Record<string, unknown> = {}, type: BatchItem['type'] = 'deployment.created'): BatchItem => ({
  eventId: 'evt-1',
  type,
  deployment: deploymentSchema.parse(apiDeployment(overrides)),
});

/** The issuers (provider ARN suffixes) a role's trust policy names in Principal.Federated. */
function federatedIssuers(policy: TrustPolicyDocument | undefined): string[] {
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [];
  return statements
    .map((s) => (s.Principal as { Federated?: string } | undefined)?.Federated)
    .filter((f): f is string => typeof f === 'string')
    .map((f) => f.replace(/^arn:aws:iam::\d+:oidc-provider\//, 'https://'))
    .sort();
}

function principalStatement(policy: TrustPolicyDocument | undefined) {
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [];
  return statements.find((s) => typeof s.Sid === 'string' && s.Sid.startsWith('AstroIdentitySyncPrincipals'));
}

describe('disaster recovery: each target trusts the clusters it must', () => {
  it('own identity trusts the primary issuer, the DR identity the secondary one, reported apart', async () => {
    const roles = memoryRoles({ [role('astro-data')]: EMPTY, [role('astro-dr')]: EMPTY });
    const [report] = await processBatch(
      [
        item({
          effectiveWorkloadIdentity: role('astro-data'),
          drOidcIssuerUrl: DR_ISSUER,
          effectiveDRWorkloadIdentity: role('astro-dr'),
        }),
      ],
      { config: config(), targets: roles.targets },
    );
    expect(federatedIssuers(roles.policies.get(role('astro-data')))).toEqual([ISSUER_AWS]);
    expect(federatedIssuers(roles.policies.get(role('astro-dr')))).toEqual([DR_ISSUER]);
    expect(report?.results.map((r) => [r.target, r.status, r.dr === true, r.added.length])).toEqual([
      [role('astro-data'), 'granted', false, 6],
      [role('astro-dr'), 'granted', true, 6],
    ]);
  });

  it.each([
    ['both (default)', '', [ISSUER_AWS, DR_ISSUER].sort(), 2],
    ['primary', '    dr: primary\n', [ISSUER_AWS], 1],
  ])('a rule target with dr: %s trusts the right issuers in one write', async (_name, dr, issuers, results) => {
    const roles = memoryRoles({ [role('shared-etl')]: EMPTY });
    const [report] = await processBatch([item({ effectiveWorkloadIdentity: undefined, drOidcIssuerUrl: DR_ISSUER })], {
      config: config(`targets:\n  - match: { all: true }\n    aws: { roleArn: "${role('shared-etl')}" }\n${dr}`),
      targets: roles.targets,
    });
    expect(federatedIssuers(roles.policies.get(role('shared-etl')))).toEqual(issuers);
    expect(roles.writes).toEqual([role('shared-etl')]);
    expect(report?.results).toHaveLength(results);
    expect(report?.results.every((r) => r.status === 'granted')).toBe(true);
  });

  it('a Deployment without DR asks nothing of the secondary cluster', async () => {
    const roles = memoryRoles({ [role('shared-etl')]: EMPTY });
    const [report] = await processBatch([item({ effectiveWorkloadIdentity: undefined })], {
      config: config(`targets:\n  - match: { all: true }\n    aws: { roleArn: "${role('shared-etl')}" }\n`),
      targets: roles.targets,
    });
    expect(federatedIssuers(roles.policies.get(role('shared-etl')))).toEqual([ISSUER_AWS]);
    expect(report?.results.map((r) => r.dr === true)).toEqual([false]);
  });

  it('a DR identity outside the allowlist is denied and reported as DR; the primary grant still lands', async () => {
    const roles = memoryRoles({ [role('astro-data')]: EMPTY });
    const [report] = await processBatch(
      [
        item({
          drOidcIssuerUrl: DR_ISSUER,
          effectiveDRWorkloadIdentity: 'arn:aws:iam::123456789012:role/admin',
        }),
      ],
      { config: config(), targets: roles.targets },
    );
    expect(report?.results.map((r) => [r.status, r.dr === true])).toEqual([
      ['granted', false],
      ['denied', true],
    ]);
    expect(report?.results[1]?.reason).toMatch(/aws\.allowedRoles/);
    expect(roles.writes).toEqual([role('astro-data')]);
  });

  it('primary and DR are all or nothing: when both do not fit, neither is written', async () => {
    const roles = memoryRoles({ [role('shared-etl')]: EMPTY }, 1400);
    const [report] = await processBatch([item({ effectiveWorkloadIdentity: undefined, drOidcIssuerUrl: DR_ISSUER })], {
      config: config(`targets:\n  - match: { all: true }\n    aws: { roleArn: "${role('shared-etl')}" }\n`),
      targets: roles.targets,
    });
    expect(report?.results.map((r) => r.status)).toEqual(['does-not-fit', 'does-not-fit']);
    // The plan says what the secondary cluster costs, so a person can decide (quota, another role, dr: primary).
    expect(report?.results[1]?.reason).toMatch(/disaster-recovery cluster's statement adds \d+ characters to the \d+/);
    expect(report?.results[0]?.reason).toContain('the disaster-recovery cluster could not be granted');
    expect(roles.writes).toEqual([]);
  });

  it.each(['http://evil.example.com/id/x', 'https://user:pw@evil.example.com/', 'https://e.example.com/?a=1'])(
    'a DR issuer %s is refused by the Deployment schema, before any target is read',
    (drOidcIssuerUrl) => {
      expect(() => deploymentSchema.parse(apiDeployment({ drOidcIssuerUrl }))).toThrow(/drOidcIssuerUrl/);
    },
  );
});

describe('Astro-managed identity trusted as Principal.AWS', () => {
  const rule = `targets:\n  - match: { all: true }\n    aws: { roleArn: "${role('shared-s3')}", trust: workload-identity }\n`;

  it('is never a target itself, and a rule adds it to one sorted managed statement', async () => {
    const roles = memoryRoles({ [role('shared-s3')]: EMPTY });
    const [report] = await processBatch(
      [
        item({
          effectiveWorkloadIdentity: ASTRO_WI,
          drOidcIssuerUrl: DR_ISSUER,
          effectiveDRWorkloadIdentity: ASTRO_WI_DR,
        }),
      ],
      { config: config(rule), targets: roles.targets },
    );
    const statement = principalStatement(roles.policies.get(role('shared-s3')));
    expect(statement).toEqual({
      Sid: expect.stringMatching(/^AstroIdentitySyncPrincipals/),
      Effect: 'Allow',
      Principal: { AWS: [ASTRO_WI_DR, ASTRO_WI].sort() },
      Action: 'sts:AssumeRole',
    });
    expect(roles.writes).toEqual([role('shared-s3')]);
    expect(report?.results.map((r) => [r.kind, r.status, r.dr === true])).toEqual([
      ['aws-role-principal', 'granted', false],
      ['aws-role-principal', 'granted', true],
    ]);
    const [again] = await processBatch([item({ effectiveWorkloadIdentity: ASTRO_WI })], {
      config: config(rule),
      targets: roles.targets,
    });
    expect(again?.results.map((r) => r.status)).toEqual(['unchanged']);
    expect(roles.writes).toHaveLength(1);
  });

  it('a DR cluster under the same Astro identity adds nothing more', async () => {
    const roles = memoryRoles({ [role('shared-s3')]: EMPTY });
    const [report] = await processBatch(
      [
        item({
          effectiveWorkloadIdentity: ASTRO_WI,
          drOidcIssuerUrl: DR_ISSUER,
          effectiveDRWorkloadIdentity: ASTRO_WI,
        }),
      ],
      { config: config(rule), targets: roles.targets },
    );
    expect(report?.results.map((r) => r.status)).toEqual(['granted']);
  });

  it.each([
    [
      'a principal outside the allowlist',
      'arn:aws:iam::888888888888:role/attacker',
      /allowedWorkloadIdentityPrincipals/,
    ],
    ['a principal of the role’s own account', role('astro-wi-self'), /own account/],
    ['no workload identity at all', undefined, /no effectiveWorkloadIdentity/],
  ])('refuses %s with zero writes', async (_name, principal, reason) => {
    const roles = memoryRoles({ [role('shared-s3')]: EMPTY });
    const cfg = parseConfig(`
aws:
  allowedRoles: ["arn:aws:iam::${ACCOUNT}:role/shared-*"]
  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::999999999999:role/astro-wi-*", "arn:aws:iam::${ACCOUNT}:role/astro-wi-*"]
${rule}`);
    const [report] = await processBatch([item({ effectiveWorkloadIdentity: principal })], {
      config: cfg,
      targets: roles.targets,
    });
    // An ARN outside the principal allowlist is also taken for a customer role, and denied as that too.
    expect(report?.results.every((r) => r.status === 'denied' || r.status === 'failed')).toBe(true);
    expect(report?.results.some((r) => reason.test(r.reason ?? ''))).toBe(true);
    expect(roles.writes).toEqual([]);
  });

  it('the path is off while aws.allowedWorkloadIdentityPrincipals is empty', async () => {
    const roles = memoryRoles({ [role('shared-s3')]: EMPTY });
    const cfg = parseConfig(`aws: { allowedRoles: ["arn:aws:iam::${ACCOUNT}:role/shared-*"] }\n${rule}`);
    const [report] = await processBatch([item({ effectiveWorkloadIdentity: ASTRO_WI })], {
      config: cfg,
      targets: roles.targets,
    });
    expect(report?.results[0]?.status).toBe('denied');
    expect(roles.writes).toEqual([]);
  });

  it('deleting the Deployment with prune takes back its principals, primary and DR, and nothing else', async () => {
    const person = { Sid: 'Person', Effect: 'Allow', Principal: { AWS: ASTRO_WI }, Action: 'sts:AssumeRole' };
    const start = {
      Version: '2012-10-17',
      Statement: [...(EMPTY.Statement as object[]), person],
    } as TrustPolicyDocument;
    const roles = memoryRoles({ [role('shared-s3')]: start });
    const deployment = { effectiveWorkloadIdentity: ASTRO_WI_DR.replace('-dr', '-other') };
    await processBatch([item(deployment)], { config: config(rule), targets: roles.targets });
    const cfg = config(
      `prune: true\nastro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }\n${rule}`,
    );
    const [report] = await processBatch([item(deployment, 'deployment.deleted')], {
      config: cfg,
      targets: roles.targets,
    });
    expect(report?.results.map((r) => r.status)).toEqual(['revoked']);
    expect(roles.policies.get(role('shared-s3'))).toEqual(start);
  });
});

/** One kind over documents in a Map, for the GCP and Azure paths. */
function memoryKind<K extends 'gcp-service-account' | 'azure-identity', Doc>(
  kind: TargetKind<K, Doc>,
  empty: () => Doc,
) {
  const docs = new Map<string, Doc>();
  const writes: string[] = [];
  const targets = new TargetRegistry([
    registerKind(kind, (target) => {
      // Every target has an id; TypeScript cannot see that through the generic kind.
      const { id } = target as { readonly id: string };
      return {
        read: async () => structuredClone(docs.get(id) ?? empty()),
        write: async (_current: Doc, next: Doc) => {
          writes.push(id);
          docs.set(id, structuredClone(next));
          return undefined;
        },
      };
    }),
  ]);
  return { docs, writes, targets };
}

describe('disaster recovery on GCP and Azure', () => {
  const SA = 'astro-etl@acme-data.iam.gserviceaccount.com';
  const gcpConfig = (pools: string) =>
    parseConfig(`
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: ${pools}
targets:
  - match: { all: true }
    gcp: { serviceAccount: "${SA}" }
`);
  const gcpItem = () =>
    item({ cloudProvider: 'GCP', effectiveWorkloadIdentity: undefined, drOidcIssuerUrl: DR_ISSUER });

  it('grants the DR pool named by the secondary issuer', async () => {
    const memory = memoryKind(gcpServiceAccountKind({ kind: 'service-account' }), () => ({}) as GcpPolicy);
    const cfg = gcpConfig(`{ default: acme-gke.svc.id.goog, byIssuer: { "${DR_ISSUER}": acme-gke-dr.svc.id.goog } }`);
    const [report] = await processBatch([gcpItem()], { config: cfg, targets: memory.targets });
    const members = memory.docs.get(SA)?.bindings?.[0]?.members ?? [];
    expect(members.some((m) => m.startsWith('serviceAccount:acme-gke.svc.id.goog['))).toBe(true);
    expect(members.some((m) => m.startsWith('serviceAccount:acme-gke-dr.svc.id.goog['))).toBe(true);
    expect(report?.results.map((r) => [r.status, r.dr === true])).toEqual([
      ['granted', false],
      ['granted', true],
    ]);
    expect(memory.writes).toHaveLength(1);
  });

  it('reports a DR cluster without a configured pool instead of skipping it', async () => {
    const memory = memoryKind(gcpServiceAccountKind({ kind: 'service-account' }), () => ({}) as GcpPolicy);
    const [report] = await processBatch([gcpItem()], {
      config: gcpConfig('{ default: acme-gke.svc.id.goog }'),
      targets: memory.targets,
    });
    expect(report?.results.map((r) => [r.status, r.dr === true])).toEqual([
      ['granted', false],
      ['failed', true],
    ]);
    expect(report?.results[1]?.reason).toContain(`issuer ${DR_ISSUER}`);
    expect(report?.results[1]?.reason).toContain('gcp.pools.byIssuer');
  });

  it('Azure: one credential per component and issuer, DR ones named <ns>-<component>-dr', async () => {
    const memory = memoryKind(azureIdentityKind(20), () => [] as CredentialList);
    const id = '00000000-0000-0000-0000-000000000000/rg-astro/mi-airflow';
    const cfg = parseConfig(`
azure:
  allowedIdentities: ["${id}"]
targets:
  - match: { all: true }
    azure: { subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroup: rg-astro, identityName: mi-airflow }
`);
    const [report] = await processBatch(
      [item({ cloudProvider: 'AZURE', effectiveWorkloadIdentity: undefined, drOidcIssuerUrl: DR_ISSUER })],
      { config: cfg, targets: memory.targets },
    );
    const names = (memory.docs.get(id) ?? []).map((c) => c.name).sort();
    expect(names).toHaveLength(12);
    expect(names.filter((n) => n.endsWith('-dr'))).toHaveLength(6);
    expect(names).toContain('nebular-gravity-1234-scheduler-dr');
    const drIssuers = new Set((memory.docs.get(id) ?? []).filter((c) => c.name.endsWith('-dr')).map((c) => c.issuer));
    expect([...drIssuers]).toEqual([DR_ISSUER]);
    expect(report?.results.map((r) => [r.status, r.dr === true])).toEqual([
      ['granted', false],
      ['granted', true],
    ]);
  });

  it('Azure: when primary and DR together exceed 20 credentials, neither is written', async () => {
    const memory = memoryKind(azureIdentityKind(20), () => [] as CredentialList);
    const id = '00000000-0000-0000-0000-000000000000/rg-astro/mi-airflow';
    const cfg = parseConfig(`
azure:
  allowedIdentities: ["${id}"]
targets:
  - match: { all: true }
    azure: { subscriptionId: 00000000-0000-0000-0000-000000000000, resourceGroup: rg-astro, identityName: mi-airflow }
`);
    const dr = (namespace: string) =>
      item({ namespace, cloudProvider: 'AZURE', effectiveWorkloadIdentity: undefined, drOidcIssuerUrl: DR_ISSUER });
    await processBatch([dr('ns-first')], { config: cfg, targets: memory.targets });
    const [report] = await processBatch([dr('ns-second')], { config: cfg, targets: memory.targets });
    expect(report?.results.map((r) => r.status)).toEqual(['does-not-fit', 'does-not-fit']);
    expect(memory.docs.get(id)).toHaveLength(12);
  });
});
