import { describe, expect, it } from 'vitest';
import { foreignSubjectsAws, ownedNamespacesAws, revokeAwsNamespace } from '../../shared/plan/aws/ownership.ts';
import { planAwsTrustPolicy } from '../../shared/plan/aws/trust-policy-planner.ts';
import { planAzureCredentials } from '../../shared/plan/azure/credentials-planner.ts';
import {
  foreignCredentialsAzure,
  ownedNamespacesAzure,
  revokeAzureNamespace,
} from '../../shared/plan/azure/ownership.ts';
import { foreignMembersGcp, ownedNamespacesGcp, revokeGcpNamespace } from '../../shared/plan/gcp/ownership.ts';
import { planGcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';

const ROLE = 'arn:aws:iam::123456789012:role/astro-data';
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/ABC';
const HOST = 'oidc.eks.us-east-1.amazonaws.com/id/ABC';
const POOL = 'astro-gke.svc.id.goog';
const grant = (namespace: string) => desiredGrant({ namespace, selection: { airflowVersion: '2.10.3' } });

describe('AWS ownership', () => {
  const personal = {
    Sid: 'Manual',
    Effect: 'Allow',
    Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${HOST}` },
    Action: 'sts:AssumeRoleWithWebIdentity',
    Condition: { StringEquals: { [`${HOST}:sub`]: 'system:serviceaccount:gone:gone-worker-serviceaccount' } },
  };
  const base = { Version: '2012-10-17', Statement: [personal] };
  const withBoth = ['keep', 'gone'].reduce<unknown>(
    (policy, ns) => planAwsTrustPolicy({ policy, roleArn: ROLE, issuer: ISSUER, grant: grant(ns) }).policy,
    base,
  );

  it('owns only namespaces in its own statements', () => {
    expect([...ownedNamespacesAws(withBoth)].sort()).toEqual(['gone', 'keep']);
    expect([...ownedNamespacesAws(base)]).toEqual([]);
  });

  it('removes a namespace from its statements, leaves a person’s statement naming it, and drops an emptied statement', () => {
    const plan = revokeAwsNamespace(withBoth, 'gone');
    // The person's statement already granted gone's worker, so our statement only ever held the other five.
    expect(plan.removed).toHaveLength(5);
    expect(plan.next.Statement).toContainEqual(personal);
    expect(ownedNamespacesAws(plan.next)).toEqual(new Set(['keep']));
    const empty = revokeAwsNamespace(plan.next, 'keep');
    expect(empty.next.Statement).toEqual([personal]);
    expect(revokeAwsNamespace(empty.next, 'keep')).toMatchObject({ changed: false, removed: [] });
  });
});

describe('GCP ownership', () => {
  const withBoth = ['keep', 'gone'].reduce<unknown>(
    (policy, ns) => planGcpPolicy({ policy, grant: grant(ns), pool: POOL }).policy,
    {
      bindings: [
        { role: 'roles/iam.workloadIdentityUser', members: [`serviceAccount:${POOL}[gone/some-other-app]`] },
        { role: 'roles/viewer', members: ['user:a@example.com'] },
      ],
    },
  );

  it('owns Astro-named members of the unconditional binding only', () => {
    expect([...ownedNamespacesGcp(withBoth)].sort()).toEqual(['gone', 'keep']);
  });

  it('keeps a member of the same namespace that is not an Astro service account', () => {
    const plan = revokeGcpNamespace(withBoth, 'gone');
    expect(plan.removed).toHaveLength(6);
    const wiu = plan.next.bindings?.find((b) => b.role === 'roles/iam.workloadIdentityUser');
    expect(wiu?.members).toContain(`serviceAccount:${POOL}[gone/some-other-app]`);
    expect(plan.next.bindings?.[1]).toEqual({ role: 'roles/viewer', members: ['user:a@example.com'] });
  });
});

describe('Azure ownership', () => {
  const someone = {
    name: 'gone-custom',
    issuer: ISSUER,
    subject: 'system:serviceaccount:gone:gone-worker-serviceaccount',
    audiences: ['api://AzureADTokenExchange'],
  };
  const withBoth: unknown[] = [someone];
  for (const ns of ['keep', 'gone']) {
    withBoth.push(...planAzureCredentials({ existing: withBoth, issuer: `${ISSUER}/`, grant: grant(ns) }).create);
  }

  it('owns credentials named <ns>-<component> with a subject in that namespace', () => {
    expect([...ownedNamespacesAzure(withBoth)].sort()).toEqual(['gone', 'keep']);
  });

  it('deletes only its own credentials of the namespace', () => {
    const plan = revokeAzureNamespace(withBoth, 'gone');
    expect(plan.removed).toEqual([
      'gone-dag-processor',
      'gone-kpo',
      'gone-scheduler',
      'gone-triggerer',
      'gone-webserver',
      'gone-worker',
    ]);
    expect(plan.next).toContainEqual(someone);
    expect(plan.next).toHaveLength(7);
  });
});

describe('entries a person added that name a namespace (audit; never touched)', () => {
  const NS = 'nebular-gravity-1234';
  it('AWS: subjects in statements that are not ours; Deny statements and our own are not listed', () => {
    const sub = 'oidc.eks.us-east-1.amazonaws.com/id/X:sub';
    const statement = (Sid: string, Effect: string, values: string[]) => ({
      Sid,
      Effect,
      Principal: { Federated: 'arn:aws:iam::1:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/X' },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [sub]: values } },
    });
    const policy = {
      Version: '2012-10-17',
      Statement: [
        statement('AstroIdentitySyncX', 'Allow', [`system:serviceaccount:${NS}:${NS}-worker-serviceaccount`]),
        statement('Debug', 'Allow', [`system:serviceaccount:${NS}:debug`, 'not-a-subject']),
        statement('NoProd', 'Deny', [`system:serviceaccount:${NS}:blocked`]),
      ],
    };
    expect(foreignSubjectsAws(policy)).toEqual([{ entry: `system:serviceaccount:${NS}:debug`, namespace: NS }]);
  });

  it('GCP: members outside the unconditional workloadIdentityUser binding, with their role', () => {
    const pool = 'acme.svc.id.goog';
    const member = (sa: string) => `serviceAccount:${pool}[${NS}/${sa}]`;
    const policy = {
      bindings: [
        { role: 'roles/iam.workloadIdentityUser', members: [member(`${NS}-worker-serviceaccount`)] },
        {
          role: 'roles/iam.workloadIdentityUser',
          members: [member('debug')],
          condition: { title: 't', expression: 'true' },
        },
        { role: 'roles/iam.serviceAccountTokenCreator', members: [member(`${NS}-kpo`), 'user:a@x.example'] },
      ],
    };
    expect(foreignMembersGcp(policy)).toEqual([
      { entry: `roles/iam.workloadIdentityUser: ${member('debug')}`, namespace: NS },
      { entry: `roles/iam.serviceAccountTokenCreator: ${member(`${NS}-kpo`)}`, namespace: NS },
    ]);
  });

  it('Azure: credentials with a namespace subject under a name this tool does not give', () => {
    const credential = (name: string, subject: string) => ({
      name,
      issuer: 'https://aks.example/issuer',
      subject,
      audiences: ['api://AzureADTokenExchange'],
    });
    const list = [
      credential(`${NS}-worker`, `system:serviceaccount:${NS}:${NS}-worker-serviceaccount`),
      credential('debug-shell', `system:serviceaccount:${NS}:debug`),
      credential('github', 'repo:acme/app:ref:refs/heads/main'),
    ];
    expect(foreignCredentialsAzure(list)).toEqual([
      { entry: `debug-shell: system:serviceaccount:${NS}:debug`, namespace: NS },
    ]);
  });
});
