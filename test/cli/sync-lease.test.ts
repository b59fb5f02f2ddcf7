import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInputFile } from '../../cli/cli-io.ts';
import { main } from '../../cli/main.ts';
import { createDynamoLease } from '../../functions/aws/dynamodb-lease.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment } from '../support/deployments.ts';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/astro-lease-sync';

describe('sync --apply takes the same per-role lease as the functions', () => {
  let stack: AwsStack;
  let configFile: string;
  beforeAll(async () => {
    stack = await startAwsStack();
    configFile = join(tmpdir(), `sync-lease-config-${process.pid}.yaml`);
    writeFileSync(
      configFile,
      'astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }\naws: { allowedRoles: ["arn:aws:iam::123456789012:role/astro-*"] }\n',
    );
    stack.astro.upsert(
      apiDeployment({
        id: 'clq2leasesync000000000000',
        namespace: 'lease-sync-ns',
        effectiveWorkloadIdentity: ROLE_ARN,
      }),
    );
  });
  afterAll(() => stack.close());

  async function sync(env: Record<string, string>, ...args: string[]) {
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
    const code = await main(
      ['sync', '--config', configFile, '--deployment', 'clq2leasesync000000000000', ...args],
      io,
      env,
    );
    return { code, stdout, stderr };
  }

  it('waits while a function holds the role, writes once it is released, and releases its own lease', async () => {
    const dynamo = stack.dynamo;
    if (dynamo === undefined) throw new Error('the stack runs DynamoDB by default');
    stack.aws.putRole('astro-lease-sync', EC2_TRUST);
    stack.aws.resetCalls();
    // A function instance in the middle of its read-plan-write-verify on the same role.
    const held = await createDynamoLease(dynamo.client(), dynamo.table).acquire(`role#${ROLE_ARN}`);
    dynamo.calls.length = 0;
    const running = sync(stack.env, '--apply');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.aws.count('GetRole')).toBe(0);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    await held.release();
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`aws ${ROLE_ARN}: added 6 subjects`);
    expect(run.stderr).not.toContain('warning');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    // Taken (after waiting), fenced before the write, released after the verify read.
    expect(dynamo.calls.filter((c) => c !== 'PutItem')).toEqual(['DeleteItem', 'UpdateItem', 'DeleteItem']);
    expect(dynamo.calls.filter((c) => c === 'PutItem').length).toBeGreaterThan(1);
  });

  it('refuses --apply without a lease table unless told --without-lease; --lease-table names it', async () => {
    stack.aws.putRole('astro-lease-sync', EC2_TRUST);
    const { ASTRO_IDENTITY_SYNC_LEASE_TABLE: table, ...without } = stack.env;
    stack.aws.resetCalls();
    const refused = await sync(without, '--apply');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/must take the deployed functions' lease: pass --lease-table/);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    const unguarded = await sync(without, '--apply', '--without-lease');
    expect(unguarded.code).toBe(0);
    expect(unguarded.stderr).toMatch(/warning: --without-lease: writes to IAM roles are not serialized/);
    stack.aws.putRole('astro-lease-sync', EC2_TRUST);
    const calls = stack.dynamo?.calls.length ?? 0;
    const guarded = await sync(without, '--apply', '--lease-table', table ?? '');
    expect(guarded.code).toBe(0);
    expect(guarded.stderr).toBe('');
    expect(stack.dynamo?.calls.slice(calls)).toEqual(['PutItem', 'UpdateItem', 'DeleteItem']);
    // A plan writes nothing and needs no lease, so no warning either.
    expect((await sync(without)).stderr).toBe('');
  });
});
