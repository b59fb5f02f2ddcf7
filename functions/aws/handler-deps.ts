import { type Env, logLevelOf } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';
import { buildRuntime, type Runtime } from '../common/runtime.ts';
import { type AwsClients, awsAdapter } from './aws-adapter.ts';
import { createLambdaLogger, type LambdaLogger } from './lambda-logger.ts';
import { createLambdaMetrics, type LambdaFunction, type LambdaMetrics } from './lambda-metrics.ts';

export interface HandlerDeps<R> {
  readonly logger: LambdaLogger;
  /** Flushed once per invocation by the handler's logMetrics middleware. */
  readonly metrics: LambdaMetrics;
  /** The cold-start runtime, built on first use and reused while the instance is warm. */
  readonly runtime: () => Promise<R>;
}

/** The reconciler, manual and scheduled functions: the full runtime with IAM targets. */
export function handlerDeps(
  env: Env,
  overrides: { logger?: LambdaLogger; metrics?: LambdaMetrics; function?: LambdaFunction } = {},
): HandlerDeps<Runtime<AwsClients>> {
  const logger = overrides.logger ?? createLambdaLogger(logLevelOf(env));
  const metrics = overrides.metrics ?? createLambdaMetrics(env, overrides.function, logger);
  return { logger, metrics, runtime: coldStart(() => buildRuntime(awsAdapter, env, logger)) };
}
