import { afterEach, describe, expect, it } from 'vitest';
import { type AwsStack, defaultLocalConfig, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { type HoustonEmulator, startHoustonEmulator } from '../../local/houston-emulator/server.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { runScheduled } from '../support/scheduled.ts';

// Astronomer Software on AWS through the real scheduled function: Houston (emulated, graphql-js) lists the
// Deployments, the IAM role trusts the chart's service accounts through the Software cluster's own issuer.

const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';
const ROLE = `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-software`;
const software = (extra = '') => `${defaultLocalConfig()}software:
  baseDomain: astro.acme.example
  token: env:HOUSTON_TOKEN
  clusters:
    default: { oidcIssuerUrl: "${ISSUER}", cloudProvider: AWS }
${extra}targets:
  - name: software-etl
    match: { releaseNames: ["solar-*", "lunar-*"] }
    aws: { roleArn: "${ROLE}" }
`;

let stack: AwsStack | undefined;
let houston: HoustonEmulator | undefined;
afterEach(async () => {
  await stack?.close();
  await houston?.close();
  stack = undefined;
  houston = undefined;
});

async function start(config: string, options: { namespaceInList?: boolean } = {}) {
  houston = await startHoustonEmulator({ token: 'houston-token', ...options });
  const env = { ASTRO_IDENTITY_SYNC_HOUSTON_URL: houston.url };
  stack = await startAwsStack({ config, env: { HOUSTON_TOKEN: 'houston-token', ...env } });
  stack.aws.putRole('astro-software', EC2_TRUST);
  return { stack, houston, env };
}

const deployment = (release: string, extra: Record<string, unknown> = {}) => ({
  id: `00000000-0000-4000-8000-${release.replace(/\D/g, '').padStart(12, '0')}`,
  label: `ETL ${release}`,
  releaseName: release,
  namespace: `astronomer-${release}`,
  workspace: { id: '11111111-1111-4111-8111-111111111111', label: 'Data' },
  runtimeVersion: '12.4.0',
  ...extra,
});

type Statement = { Sid?: string; Condition?: { StringEquals?: Record<string, string[]> } };
const subjectsOf = (s: AwsStack) =>
  (s.aws.getTrustPolicy('astro-software') as { Statement: Statement[] }).Statement.flatMap((st) =>
    Object.entries(st.Condition?.StringEquals ?? {})
      .filter(([key]) => key.endsWith(':sub'))
      .flatMap(([, values]) => values),
  );

describe('Astronomer Software on AWS (Houston -> poll -> trust policy)', () => {
  it('grants the chart service accounts in Houston’s namespace, then converges with no write', async () => {
    const { stack: s, houston: h, env } = await start(software());
    h.upsert(deployment('solar-orbit-4143'));
    await runScheduled(s, 'poll', env);
    expect(subjectsOf(s).sort()).toEqual(
      ['dag-processor', 'scheduler', 'triggerer', 'webserver', 'worker'].map(
        (c) => `system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-${c}`,
      ),
    );
    // The EC2 statement a person wrote is still there.
    expect(JSON.stringify(s.aws.getTrustPolicy('astro-software'))).toContain('ec2.amazonaws.com');
    expect(h.requests.every((r) => r.authorization === 'houston-token')).toBe(true);
    s.aws.resetCalls();
    await runScheduled(s, 'sweep', env);
    expect(s.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('falls back to the namespace template when this Houston lists no namespace', async () => {
    const {
      stack: s,
      houston: h,
      env,
    } = await start(software('  platformNamespace: astro-prod\n'), {
      namespaceInList: false,
    });
    h.upsert(deployment('lunar-harbor-8642', { runtimeVersion: '3.0-4' }));
    await runScheduled(s, 'poll', env);
    expect(subjectsOf(s)).toContain(
      'system:serviceaccount:astro-prod-lunar-harbor-8642:lunar-harbor-8642-airflow-api-server',
    );
  });

  it('grants nothing for a Deployment whose cluster config does not cover, and says why', async () => {
    const config = software().replace('    default: {', '    cluster-a: {');
    const { stack: s, houston: h, env } = await start(config);
    h.upsert(deployment('solar-orbit-4143', { clusterId: 'cluster-b' }));
    await runScheduled(s, 'poll', env);
    // Reported in the run's Slack summary by id, never granted and never silently skipped.
    expect(JSON.stringify(s.slack.messages)).toContain(
      'runs on cluster cluster-b, which software.clusters does not list',
    );
    expect(s.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('matches rules on release names: a release outside the globs is not granted', async () => {
    const { stack: s, houston: h, env } = await start(software());
    h.upsert(deployment('other-release-0001'));
    await runScheduled(s, 'poll', env);
    expect(subjectsOf(s)).toEqual([]);
  });

  it('the manual route re-reads a Software Deployment from Houston: a payload cannot choose its namespace', async () => {
    const { stack: live, houston: h } = await start(software());
    h.upsert(deployment('solar-orbit-4143'));
    const manual = (body: unknown) =>
      fetch(live.manualUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${live.manualToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as { results?: unknown[] } }));
    const org = 'software:astro.acme.example';
    const granted = await manual({ organizationId: org, deploymentId: deployment('solar-orbit-4143').id });
    expect(granted.status).toBe(200);
    expect(subjectsOf(live)).toContain(
      'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-scheduler',
    );
    // A Deployment Houston does not know is refused, and nothing is written.
    live.aws.resetCalls();
    const unknown = await manual({ organizationId: org, deploymentId: '00000000-0000-4000-8000-999999999999' });
    expect(unknown.status).toBe(400);
    expect(live.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('prune takes back only the entries of a Software Deployment Houston no longer lists', async () => {
    const config = software().replace('software:\n', 'prune: true\nsoftware:\n');
    const { stack: s, houston: h, env } = await start(config);
    h.upsert(deployment('solar-orbit-4143'));
    h.upsert(deployment('lunar-harbor-8642'));
    await runScheduled(s, 'poll', env);
    expect(subjectsOf(s)).toHaveLength(10);
    h.remove(deployment('lunar-harbor-8642').id);
    await runScheduled(s, 'sweep', env);
    const left = subjectsOf(s);
    expect(left).toHaveLength(5);
    expect(left.every((subject) => subject.includes(':astronomer-solar-orbit-4143:'))).toBe(true);
    expect(JSON.stringify(s.aws.getTrustPolicy('astro-software'))).toContain('ec2.amazonaws.com');
  });
});

describe('Astronomer Software inline (no Houston token): the signed payload, settled by software.clusters', () => {
  const inlineConfig = software().replace('  token: env:HOUSTON_TOKEN\n', '');
  const payload = (extra: Record<string, unknown> = {}) => ({
    id: 'inline-0001',
    name: 'ETL inline',
    namespace: 'astronomer-solar-orbit-4143',
    organizationId: 'software:astro.acme.example',
    releaseName: 'solar-orbit-4143',
    airflowVersion: '2.10.3',
    // A payload's issuer is never trusted for Software: the cluster's comes from config.
    oidcIssuerUrl: 'https://evil.example/oidc',
    ...extra,
  });
  const send = (s: AwsStack, deployment: Record<string, unknown>, type = 'deployment.created') =>
    fetch(s.manualUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.manualToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deployment, type }),
    }).then(async (r) => ({ status: r.status, text: await r.text() }));

  it('grants the chart accounts under the configured issuer, and refuses what it cannot settle', async () => {
    const { stack: s } = await start(inlineConfig);
    expect((await send(s, payload())).status).toBe(200);
    const text = JSON.stringify(s.aws.getTrustPolicy('astro-software'));
    expect(text).toContain('solar-orbit-4143-airflow-worker');
    expect(text).toContain('oidc.eks.us-east-1.amazonaws.com');
    expect(text).not.toContain('evil.example');
    s.aws.resetCalls();
    const noRelease = await send(s, payload({ id: 'inline-0002', releaseName: undefined }));
    expect(noRelease.text).toContain('needs data.deployment.releaseName');
    const otherPlatform = await send(s, payload({ id: 'inline-0003', organizationId: 'software:evil.example' }));
    expect(otherPlatform.text).toContain('must be software:astro.acme.example');
    const deletion = await send(s, payload(), 'deployment.deleted');
    expect(deletion.status).toBeGreaterThanOrEqual(400);
    expect(s.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });
});
