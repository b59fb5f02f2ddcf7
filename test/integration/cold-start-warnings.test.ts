import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsAdapter } from '../../functions/aws/aws-adapter.ts';
import { awsIntakeAdapter } from '../../functions/aws/aws-intake-adapter.ts';
import { buildIntakeRuntime } from '../../functions/common/intake-runtime.ts';
import type { Logger } from '../../functions/common/logger.ts';
import { buildRuntime } from '../../functions/common/runtime.ts';
import { gcpAdapter } from '../../functions/gcp/gcp-adapter.ts';
import { type AwsStack, startAwsStack } from '../../local/aws-stack.ts';
import { type GcpStack, startGcpStack } from '../../local/gcp-stack.ts';

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => void warnings.push(message),
    error: () => undefined,
    child: () => logger,
  };
  return { logger, warnings };
}

describe('cold start announces an allowlist that leaves the function nothing to do', () => {
  let stack: GcpStack;
  beforeAll(async () => {
    stack = await startGcpStack();
  });
  afterAll(() => stack.close());

  it('warns once when its own cloud allows nothing, and not when it allows something', async () => {
    const empty = capture();
    const closed = await buildRuntime(
      gcpAdapter,
      { ...stack.env, ASTRO_IDENTITY_SYNC_CONFIG: 'aws: { allowedRoles: ["arn:aws:iam::123456789012:role/x"] }' },
      empty.logger,
    );
    expect(empty.warnings).toEqual([
      'gcp.allowedServiceAccounts (and gcp.allowedProjects) is empty: this function will deny every gcp target',
    ]);
    const open = capture();
    const ok = await buildRuntime(gcpAdapter, stack.env, open.logger);
    expect(open.warnings).toEqual([]);
    await Promise.all([closed.close?.(), ok.close?.()]);
  });
});

describe('cold start announces that AWS writes are not serialized without the lease table', () => {
  let aws: AwsStack;
  beforeAll(async () => {
    aws = await startAwsStack({ leaseTable: false });
  });
  afterAll(() => aws.close());

  it('the writers and the webhook warn once without ASTRO_IDENTITY_SYNC_LEASE_TABLE, and not with it', async () => {
    const writer = capture();
    const intake = capture();
    const runtimes = [
      await buildRuntime(awsAdapter, aws.env, writer.logger),
      await buildIntakeRuntime(awsIntakeAdapter, aws.env, intake.logger),
    ];
    expect(writer.warnings).toEqual([
      expect.stringMatching(
        /^ASTRO_IDENTITY_SYNC_LEASE_TABLE is not set: writes to a role from different functions \(and sync --apply\) are not serialized/,
      ),
    ]);
    expect(intake.warnings).toEqual([
      expect.stringMatching(
        /^ASTRO_IDENTITY_SYNC_LEASE_TABLE is not set: a replayed webhook-id is recognized only by the instance that handled it/,
      ),
    ]);
    expect(runtimes[1]?.replays).toBeUndefined();
    const guarded = capture();
    const env = { ...aws.env, ASTRO_IDENTITY_SYNC_LEASE_TABLE: 'astro-identity-sync-leases' };
    runtimes.push(await buildRuntime(awsAdapter, env, guarded.logger));
    runtimes.push(await buildIntakeRuntime(awsIntakeAdapter, env, guarded.logger));
    expect(guarded.warnings).toEqual([]);
    expect(runtimes[3]?.replays).toBeDefined();
    for (const runtime of runtimes) runtime.close();
  });
});
