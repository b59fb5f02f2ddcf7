import { type Env, logLevelOf } from '../common/env-settings.ts';
import { buildIntakeRuntime, coldStart, type IntakeRuntime } from '../common/intake-runtime.ts';
import { type AwsIntakeClients, awsIntakeAdapter } from './aws-intake-adapter.ts';
import type { HandlerDeps } from './handler-deps.ts';
import { createLambdaLogger, type LambdaLogger } from './lambda-logger.ts';
import { createLambdaMetrics, type LambdaMetrics } from './lambda-metrics.ts';

/**
 * The webhook function's deps: intake and the event bus only. Kept apart from handler-deps.ts so the webhook bundle
 * never reaches the IAM client, Slack or the Astro client.
 */
export function webhookDeps(
  env: Env,
  overrides: { logger?: LambdaLogger; metrics?: LambdaMetrics } = {},
): HandlerDeps<IntakeRuntime<AwsIntakeClients>> {
  const logger = overrides.logger ?? createLambdaLogger(logLevelOf(env));
  const metrics = overrides.metrics ?? createLambdaMetrics(env, 'webhook', logger);
  return { logger, metrics, runtime: coldStart(() => buildIntakeRuntime(awsIntakeAdapter, env, logger)) };
}
