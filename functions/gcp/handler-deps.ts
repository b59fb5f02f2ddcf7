import { type Env, logLevelOf } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';
import { createPinoLogger, type Logger } from '../common/logger.ts';
import { buildRuntime, type Runtime } from '../common/runtime.ts';
import { type GcpClients, gcpAdapter } from './gcp-adapter.ts';

export interface GcpHandlerDeps {
  readonly logger: Logger;
  /** Built on first use and reused while the instance is warm; a failed build is retried on the next request. */
  readonly runtime: () => Promise<Runtime<GcpClients>>;
}

export function gcpHandlerDeps(env: Env, overrides: { logger?: Logger } = {}): GcpHandlerDeps {
  const logger = overrides.logger ?? createPinoLogger({ level: logLevelOf(env), cloud: 'gcp' });
  return { logger, runtime: coldStart(() => buildRuntime(gcpAdapter, env, logger)) };
}
