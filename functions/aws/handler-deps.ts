import type { Logger } from '@aws-lambda-powertools/logger';
import { type AwsRuntime, type Env, loadAwsRuntime } from './aws-runtime.ts';
import { createLambdaLogger } from './lambda-logger.ts';

export interface HandlerDeps {
  readonly logger: Logger;
  /** The cold-start runtime, built on first use and reused while the instance is warm. */
  readonly runtime: () => Promise<AwsRuntime>;
}

export function handlerDeps(env: Env, overrides: { logger?: Logger } = {}): HandlerDeps {
  const logger = overrides.logger ?? createLambdaLogger(env);
  let runtime: Promise<AwsRuntime> | undefined;
  return {
    logger,
    runtime: () => {
      runtime ??= loadAwsRuntime(env, logger).catch((error: unknown) => {
        runtime = undefined; // a bad secret or config fetch is retried by the next invocation
        throw error;
      });
      return runtime;
    },
  };
}
