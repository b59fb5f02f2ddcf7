import type { Env } from '../common/function-runtime.ts';
import { createJsonLogger, type JsonLogger } from '../common/json-logger.ts';
import { type GcpRuntime, loadGcpRuntime } from './gcp-runtime.ts';

export interface GcpHandlerDeps {
  readonly logger: JsonLogger;
  /** Built on first use and reused while the instance is warm; a failed build is retried on the next request. */
  readonly runtime: () => Promise<GcpRuntime>;
}

export function gcpHandlerDeps(env: Env, overrides: { logger?: JsonLogger } = {}): GcpHandlerDeps {
  const logger = overrides.logger ?? createJsonLogger(env, { cloud: 'gcp' });
  let runtime: Promise<GcpRuntime> | undefined;
  return {
    logger,
    runtime: () => {
      runtime ??= loadGcpRuntime(env, logger).catch((error: unknown) => {
        runtime = undefined;
        throw error;
      });
      return runtime;
    },
  };
}
