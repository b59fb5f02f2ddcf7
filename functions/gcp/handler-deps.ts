import { type Env, logLevelOf } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';
import { createLogMetrics, type FlushableMetrics } from '../common/log-metrics.ts';
import { createPinoLogger, type Logger } from '../common/logger.ts';
import { buildRuntime, type Runtime } from '../common/runtime.ts';
import { type GcpClients, gcpAdapter } from './gcp-adapter.ts';

export interface GcpHandlerDeps {
  readonly logger: Logger;
  /** Built on first use and reused while the instance is warm; a failed build is retried on the next request. */
  readonly runtime: () => Promise<Runtime<GcpClients>>;
  /**
   * One invocation's metrics, written as `{"message":"metric","metric":{name,value,unit,dimensions}}` lines when it
   * ends: what the log-based metrics of infra/gcp count.
   */
  readonly metrics: (logger: Logger) => FlushableMetrics;
}

export function gcpHandlerDeps(env: Env, overrides: { logger?: Logger } = {}): GcpHandlerDeps {
  const logger = overrides.logger ?? createPinoLogger({ level: logLevelOf(env), cloud: 'gcp' });
  return {
    logger,
    runtime: coldStart(() => buildRuntime(gcpAdapter, env, logger)),
    metrics: (invocation) => createLogMetrics(invocation, 'metric'),
  };
}
