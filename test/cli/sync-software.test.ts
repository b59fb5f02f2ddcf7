import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsStack, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { type HoustonEmulator, startHoustonEmulator } from '../../local/houston-emulator/server.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { runCli } from '../support/run-cli.ts';

// `sync --platform software`: the backfill of Astronomer Software Deployments from Houston, with this machine's
// credentials (the emulators stand in), a plan first and the changes with --apply.

const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';

describe('astro-identity-sync sync --platform software', () => {
  let stack: AwsStack;
  let houston: HoustonEmulator;
  let configFile: string;
  beforeAll(async () => {
    houston = await startHoustonEmulator({ token: 'houston-token' });
    stack = await startAwsStack();
    configFile = join(tmpdir(), `sync-software-${process.pid}.yaml`);
    writeFileSync(
      configFile,
      `aws: { allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"] }
software:
  baseDomain: astro.acme.example
  token: env:HOUSTON_TOKEN
  clusters: { default: { oidcIssuerUrl: "${ISSUER}", cloudProvider: AWS } }
targets:
  - match: { releaseNames: ["solar-*"] }
    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-software" }
`,
    );
    houston.upsert({
      id: '00000000-0000-4000-8000-000000004143',
      label: 'ETL',
      releaseName: 'solar-orbit-4143',
      namespace: 'astronomer-solar-orbit-4143',
      runtimeVersion: '12.4.0',
    });
  });
  afterAll(async () => {
    await stack.close();
    await houston.close();
  });

  const sync = (...args: string[]) =>
    runCli(['sync', '--config', configFile, '--platform', 'software', ...args], '', {
      ...stack.env,
      HOUSTON_TOKEN: 'houston-token',
      ASTRO_IDENTITY_SYNC_HOUSTON_URL: houston.url,
    });

  it('plans the chart service accounts from Houston, then applies them', async () => {
    stack.aws.putRole('astro-software', EC2_TRUST);
    const plan = await sync('--all');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('ETL (astronomer-solar-orbit-4143)');
    expect(plan.stdout).toContain(
      '    + system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-worker',
    );
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    const applied = await sync('--deployment', '00000000-0000-4000-8000-000000004143', '--apply');
    expect(applied.code).toBe(0);
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-software'))).toContain('solar-orbit-4143-airflow-scheduler');
  });

  it('says which settings are missing and which Deployment Houston does not list', async () => {
    const unknown = await sync('--deployment', '00000000-0000-4000-8000-999999999999');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Houston does not list Deployment');
    // Without HOUSTON_TOKEN in the environment the CLI cannot read the env: reference.
    const noToken = await runCli(['sync', '--config', configFile, '--platform', 'software', '--all'], '', stack.env);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('HOUSTON_TOKEN');
  });
});
