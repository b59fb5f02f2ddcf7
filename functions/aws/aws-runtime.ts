import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { TargetDriver } from '../../shared/reconcile-target.ts';
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

export async function loadAwsRuntime(env: Env, logger: PipelineLogger): Promise<AwsRuntime> {
  const endpoint = env.ASTRO_IDENTITY_SYNC_AWS_ENDPOINT;
  // The local stack points every client at the emulator; in Lambda the SDK's default chain and region apply.
  const common = {
    region: env.AWS_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
  const iam = new IAMClient({ ...common, retryStrategy: new IamRetryStrategy(3) });
  const events = new EventBridgeClient(common);
  const resolve = createAwsSecretResolver(env, {
    ssm: new SSMClient(common),
    secrets: new SecretsManagerClient(common),
  });
  // Lambda's environment holds at most 4 KB, so the config may live in SSM or Secrets Manager.
  const config = await readConfig(env, resolve, /^(aws-ssm|aws-sm):/);
  const limits = createTrustPolicyLimits(iam, {
    configured: config.aws.trustPolicyMaxSize,
    live: config.aws.useLiveQuota,
  });
  const runtime = await buildFunctionRuntime({
    config,
    env,
    resolve,
    logger,
    drivers: {
      aws: (target) => {
        if (target.cloud !== 'aws') throw new Error(`not an AWS target: ${target.id}`);
        return createTrustPolicyDriver(iam, target.roleArn, limits) as TargetDriver<unknown>;
      },
    },
  });
  return { ...runtime, iam, events, busName: env.ASTRO_IDENTITY_SYNC_EVENT_BUS };
}
