import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../functions/common/logger.ts';
import { buildRuntime } from '../../functions/common/runtime.ts';
import { gcpAdapter } from '../../functions/gcp/gcp-adapter.ts';
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
