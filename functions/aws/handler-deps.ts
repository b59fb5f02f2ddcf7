import { type Env, logLevelOf } from '../common/env-settings.ts';
import { coldStart } from '../common/intake-runtime.ts';
import { buildRuntime, type Runtime } from '../common/runtime.ts';
import { type AwsClients, awsAdapter } from './aws-adapter.ts';
import { createLambdaLogger, type LambdaLogger } from './lambda-logger.ts';

export interface HandlerDeps<R> {
  readonly logger: LambdaLogger;
  /** The cold-start runtime, built on first use and reused while the instance is warm. */
  readonly runtime: () => Promise<R>;
}

/** The reconciler, manual and scheduled functions: the full runtime with IAM targets. */
export function handlerDeps(env: Env, overrides: { logger?: LambdaLogger } = {}): HandlerDeps<Runtime<AwsClients>> {
  const logger = overrides.logger ?? createLambdaLogger(logLevelOf(env));
  return { logger, runtime: coldStart(() => buildRuntime(awsAdapter, env, logger)) };
}
