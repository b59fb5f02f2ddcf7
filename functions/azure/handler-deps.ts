import { type Env, logLevelOf } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';
import { createLogMetrics, type FlushableMetrics } from '../common/log-metrics.ts';
import type { Logger } from '../common/logger.ts';
import { buildRuntime, type Runtime } from '../common/runtime.ts';
import { type AzureClients, azureAdapter } from './azure-adapter.ts';
import { createAzureLogger } from './azure-logger.ts';

export interface AzureHandlerDeps {
  /** pino, writing each line through the invocation that is running (see azure-logger.ts). */
  readonly logger: Logger;
  /** The cold-start runtime, built on first use and shared by every function and invocation of this instance. */
  readonly runtime: () => Promise<Runtime<AzureClients>>;
  /**
   * One invocation's metrics, written through its context as `{"message":"customMetric","customMetric":{name,value,
   * unit,dimensions}}` lines when it ends: what the scheduled query alerts of infra/azure sum.
   */
  readonly metrics: (logger: Logger) => FlushableMetrics;
}

/**
 * One set of deps per function app instance. All functions of an Azure function app run in one process, so the
 * HTTP and queue triggers share the runtime, its ARM clients and its per-target lanes.
 */
export function azureHandlerDeps(env: Env): AzureHandlerDeps {
  const logger = createAzureLogger(logLevelOf(env));
  return {
    logger,
    runtime: coldStart(() => buildRuntime(azureAdapter, env, logger)),
    metrics: (invocation) => createLogMetrics(invocation, 'customMetric'),
  };
}
