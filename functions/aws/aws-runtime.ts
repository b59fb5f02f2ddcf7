import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Config } from '../../shared/config.ts';
import type { DriverFactory } from '../../shared/reconcile/process-batch.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { buildFunctionRuntime, type Env, type FunctionRuntime, readConfig } from '../common/function-runtime.ts';
import type { PipelineLogger } from '../common/pipeline.ts';
import { IamRetryStrategy } from './iam-retry-strategy.ts';
import { createAwsSecretResolver } from './secret-resolver.ts';
import { createTrustPolicyDriver, createTrustPolicyLimits } from './trust-policy-driver.ts';

export type { Env } from '../common/function-runtime.ts';

/** Everything the AWS handlers need, built once per cold start from an explicit environment. */
export interface AwsRuntime extends FunctionRuntime {
  readonly iam: IAMClient;
  readonly events: EventBridgeClient;
  readonly busName: string | undefined;
}

/** Client settings: the SDK's default chain and region in Lambda or on a workstation; the emulator locally. */
export function awsClientConfig(env: Env) {
  const endpoint = env.ASTRO_IDENTITY_SYNC_AWS_ENDPOINT;
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}

export function createIamClient(env: Env): IAMClient {
  return new IAMClient({ ...awsClientConfig(env), retryStrategy: new IamRetryStrategy(3) });
}

export function awsDriverFactory(iam: IAMClient, config: Config): DriverFactory {
  const limits = createTrustPolicyLimits(iam, {
    configured: config.aws.trustPolicyMaxSize,
    live: config.aws.useLiveQuota,
  });
  return (target) => {
    if (target.cloud !== 'aws') throw new Error(`not an AWS target: ${target.id}`);
    return createTrustPolicyDriver(iam, target.roleArn, limits) as TargetDriver<unknown>;
  };
}

export async function loadAwsRuntime(env: Env, logger: PipelineLogger): Promise<AwsRuntime> {
  const common = awsClientConfig(env);
  const iam = createIamClient(env);
  const events = new EventBridgeClient(common);
  const resolve = createAwsSecretResolver(env, {
    ssm: new SSMClient(common),
    secrets: new SecretsManagerClient(common),
  });
  // Lambda's environment holds at most 4 KB, so the config may live in SSM or Secrets Manager.
  const config = await readConfig(env, resolve, /^(aws-ssm|aws-sm):/);
  const runtime = await buildFunctionRuntime({
    config,
    env,
    resolve,
    logger,
    drivers: { aws: awsDriverFactory(iam, config) },
  });
  return { ...runtime, iam, events, busName: env.ASTRO_IDENTITY_SYNC_EVENT_BUS };
}
