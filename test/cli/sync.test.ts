import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputFile } from '../../cli/cli-io.ts';
import { main } from '../../cli/main.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment } from '../support/deployments.ts';
import { runCli } from '../support/run-cli.ts';

describe('astro-identity-sync sync (backfill from a workstation)', () => {
  let stack: AwsStack;
  let configFile: string;
  beforeAll(async () => {
    stack = await startAwsStack();
    configFile = join(tmpdir(), `sync-config-${process.pid}.yaml`);
    writeFileSync(
      configFile,
      'astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }\naws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"] }\n',
    );
    for (let i = 0; i < 30; i++) {
      stack.astro.upsert(
        apiDeployment({
          id: `clq2sync${String(i).padStart(17, '0')}`,
          name: `sync-${i}`,
          namespace: `sync-ns-${i}`,
          effectiveWorkloadIdentity: `arn:aws:iam::123456789012:role/astro-s${i % 10}`,
          airflowVersion: '3.0.1',
          remoteExecution: { enabled: true },
        }),
      );
    }
  });
  afterAll(() => stack.close());

  async function sync(...args: string[]) {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: (c: string) => {
        stdout += c;
      },
      stderr: (c: string) => {
        stderr += c;
      },
      readInput: (path: string, flag: string) => readInputFile(path, flag, async () => ''),
    };
    const code = await main(['sync', '--config', configFile, ...args], io, stack.env);
    return { code, stdout, stderr };
  }

  it('prints a readable plan by default and writes nothing', async () => {
    for (let r = 0; r < 10; r++) stack.aws.putRole(`astro-s${r}`, EC2_TRUST);
    stack.aws.resetCalls();
    const run = await sync('--all');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'sync-0 (sync-ns-0)\n  aws arn:aws:iam::123456789012:role/astro-s0: dry run: would add 2 subjects\n    + system:serviceaccount:sync-ns-0:sync-ns-0-apiserver-serviceaccount',
    );
    expect(run.stdout).toContain('(plan only: run again with --apply)');
    // What the role would hold once applied, as IAM counts it: the minified policy against the 2048 default.
    expect(run.stdout).toMatch(/\n {4}usage: \d+\/2048 characters \(\d+(\.\d)?%\) once applied\n/);
    expect(run.stderr).toContain('[30/30] Deployments');
    // Airflow 3 uses the API server, whose account name is unconfirmed: one line a person can run to compare.
    expect(run.stderr).toContain(
      "check: the API server's service account name is unconfirmed; paste the Astro UI's workload identity commands for sync-0",
    );
    expect(run.stderr).toContain(
      "astro-identity-sync subjects --namespace sync-ns-0 --remote-execution | diff - <(grep -o 'system:serviceaccount:sync-ns-0:[a-z0-9-]*' ui.txt | sort -u)",
    );
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('applies with --apply, then has nothing left to do', async () => {
    const applied = await sync('--all', '--apply');
    expect(applied.code).toBe(0);
    // Deployments go in chunks of 25 (for progress); each chunk folds its events into one write per role:
    // 10 roles in the first chunk, 5 of them again in the second.
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(15);
    const again = await sync('--deployment', 'clq2sync00000000000000003', '--json');
    const used = JSON.stringify(stack.aws.getTrustPolicy('astro-s3')).length;
    expect(JSON.parse(again.stdout)[0].results).toEqual([
      expect.objectContaining({ status: 'unchanged', usage: { used, limit: 2048, unit: 'characters' } }),
    ]);
    // With a low threshold the fullest targets are listed once more at the end, fullest first.
    const strict = join(tmpdir(), `sync-config-strict-${process.pid}.yaml`);
    writeFileSync(strict, `${readFileSync(configFile, 'utf8')}capacity: { warnAtPercent: 20 }\n`);
    const listed = await runCli(
      ['sync', '--config', strict, '--deployment', 'clq2sync00000000000000003'],
      '',
      stack.env,
    );
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain(
      `capacity: 1 target(s) at or above 20%:\n  aws arn:aws:iam::123456789012:role/astro-s3: ${used}/2048 characters`,
    );
    const text = await sync('--deployment', 'clq2sync00000000000000003');
    expect(text.stderr).not.toContain('capacity:');
    expect(text.stdout).toContain(`    usage: ${used}/2048 characters (${Math.round((used / 2048) * 1000) / 10}%)\n`);
  });

  it('exits 1 and says why when a target needs attention, and 2 on bad usage', async () => {
    stack.astro.upsert(
      apiDeployment({
        id: 'clq2denied000000000000000',
        name: 'denied',
        effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/admin',
      }),
    );
    const denied = await sync('--deployment', 'clq2denied000000000000000');
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/denied: .*aws\.allowedRoles/);
    expect((await sync()).code).toBe(2);
    expect((await sync('--all', '--deployment', 'x')).code).toBe(2);
  });

  it('shows subjects a Deny blocks, applies the rest, and exits 1 like every target that needs attention', async () => {
    const hp = 'oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';
    stack.aws.putRole('astro-deny', {
      Version: '2012-10-17',
      Statement: [
        ...EC2_TRUST.Statement,
        {
          Sid: 'NoWorkers',
          Effect: 'Deny',
          Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${hp}` },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { [`${hp}:sub`]: '*-worker-serviceaccount' } },
        },
      ],
    });
    stack.astro.upsert(
      apiDeployment({
        id: 'clq2blocked00000000000000',
        name: 'blocked',
        namespace: 'deny-ns',
        effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-deny',
      }),
    );
    const run = await sync('--deployment', 'clq2blocked00000000000000', '--apply');
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('astro-deny: blocked: an explicit Deny in the trust policy blocks 1 subject');
    expect(run.stdout).toContain('    ! system:serviceaccount:deny-ns:deny-ns-worker-serviceaccount (blocked)');
    expect(run.stdout).toContain('    + system:serviceaccount:deny-ns:deny-ns-kpo');
    expect(JSON.stringify(stack.aws.getTrustPolicy('astro-deny'))).not.toContain('deny-ns-worker');
  });

  it('shows a DR grant apart from the primary one', async () => {
    stack.aws.putRole('astro-dr', EC2_TRUST);
    stack.astro.upsert(
      apiDeployment({
        id: 'clq2drsync000000000000000',
        name: 'with-dr',
        namespace: 'dr-ns',
        effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-s1',
        drOidcIssuerUrl: 'https://oidc.eks.us-west-2.amazonaws.com/id/DR0000000000000000000000000000AB',
        effectiveDRWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-dr',
      }),
    );
    // The secondary cluster's IAM OIDC provider is missing: the dry run says so rather than "would add".
    const missing = await sync('--deployment', 'clq2drsync000000000000000');
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toContain('missing OIDC provider');
    stack.aws.addOidcProvider('https://oidc.eks.us-west-2.amazonaws.com/id/DR0000000000000000000000000000AB');
    const run = await sync('--deployment', 'clq2drsync000000000000000');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('aws arn:aws:iam::123456789012:role/astro-s1: dry run: would add 6 subjects');
    expect(run.stdout).toContain('aws arn:aws:iam::123456789012:role/astro-dr: DR: dry run: would add 6 subjects');
    // Airflow 2: no API server, nothing to check.
    expect(run.stderr).not.toContain('check:');
  });

  it('exits 4, not 2, when the Astro API does not answer: an outage is not a usage error', async () => {
    stack.astro.setFaults({ down: true });
    try {
      const down = await sync('--all');
      expect(down.code).toBe(4);
      expect(down.stderr).toMatch(/Astro API .*retry later/);
      expect(down.stdout).toBe('');
    } finally {
      stack.astro.setFaults({});
    }
  });
});

describe('sync on GCP and Azure', () => {
  it('plans and applies on every cloud the config manages', async () => {
    const { startGcpStack, LOCAL_POOL } = await import('../../local/gcp-stack.ts');
    const azureStack = await import('../../local/azure-stack.ts');
    const gcp = await startGcpStack();
    const azure = await azureStack.startAzureStack({});
    try {
      const sa = 'astro-sync@acme-data.iam.gserviceaccount.com';
      gcp.gcp.putServiceAccount(sa);
      azure.seedIdentity('astro-sync');
      gcp.astro.upsert(
        apiDeployment({
          id: 'clq2gsync0000000000000000',
          name: 'g',
          namespace: 'gsync-ns',
          cloudProvider: 'GCP',
          effectiveWorkloadIdentity: sa,
        }),
      );
      gcp.astro.upsert(
        apiDeployment({
          id: 'clq2async0000000000000000',
          name: 'a',
          namespace: 'async-ns',
          cloudProvider: 'AZURE',
          oidcIssuerUrl: azureStack.LOCAL_AKS_ISSUER,
          effectiveWorkloadIdentity: azureStack.identityResourceId('astro-sync'),
        }),
      );
      const file = join(tmpdir(), `sync-multi-${process.pid}.yaml`);
      writeFileSync(
        file,
        `astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
gcp: { allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"], pools: { default: ${LOCAL_POOL} } }
azure: { allowedIdentities: ["${azureStack.LOCAL_SUBSCRIPTION}/${azureStack.LOCAL_RESOURCE_GROUP}/astro-*"] }
`,
      );
      const env = { ...azure.env, ...gcp.env };
      let stdout = '';
      const io = {
        stdout: (c: string) => {
          stdout += c;
        },
        stderr: () => undefined,
        readInput: (path: string, flag: string) => readInputFile(path, flag, async () => ''),
      };
      expect(await main(['sync', '--config', file, '--all', '--apply'], io, env)).toBe(0);
      expect(stdout).toContain('gcp astro-sync@acme-data.iam.gserviceaccount.com: added 6');
      expect(stdout).toMatch(/azure .*astro-sync: added 6/);
      expect(
        azure.azure.credentials(azureStack.LOCAL_SUBSCRIPTION, azureStack.LOCAL_RESOURCE_GROUP, 'astro-sync'),
      ).toHaveLength(6);
    } finally {
      await Promise.all([gcp.close(), azure.close()]);
    }
  });
});
