import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { type Config, parseConfig } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Target } from '../../shared/targets.ts';
import { createWebhookVerifier, type WebhookVerifier } from '../../shared/webhook-verifier.ts';
import { type AstroClient, createAstroClient } from '../common/astro-client.ts';
import type { Notifier, PipelineLogger } from '../common/pipeline.ts';
import { createSlackNotifier } from '../common/slack-notifier.ts';
import { IamRetryStrategy } from './iam-retry-strategy.ts';
import { createAwsSecretResolver, type Env, type SecretResolver } from './secret-resolver.ts';
import { createTrustPolicyDriver, createTrustPolicyLimits } from './trust-policy-driver.ts';

export type { Env } from './secret-resolver.ts';

/** Everything a handler needs, built once per cold start from an explicit environment. */
export interface AwsRuntime {
  readonly config: Config;
  readonly iam: IAMClient;
  readonly events: EventBridgeClient;
  readonly busName: string | undefined;
  readonly verifier: WebhookVerifier | undefined;
  readonly manualToken: string | undefined;
  readonly notifier: Notifier;
  /** The Astro API, when configured: the source of truth for every event's Deployment. */
  readonly astro: AstroClient | undefined;
  readonly drivers: { aws: (target: Target) => ReturnType<typeof createTrustPolicyDriver> };
}

const CONFIG_VAR = 'ASTRO_IDENTITY_SYNC_CONFIG';

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
  const config = await readConfig(env, resolve);

  const limits = createTrustPolicyLimits(iam, {
    configured: config.aws.trustPolicyMaxSize,
    live: config.aws.useLiveQuota,
  });
  const secrets = await Promise.all(
    config.webhook?.secrets.map((ref, i) => resolve(ref, `webhook.secrets.${i}`)) ?? [],
  );
  return {
    config,
    iam,
    events,
    busName: env.ASTRO_IDENTITY_SYNC_EVENT_BUS,
    verifier: config.webhook
      ? createWebhookVerifier({ secrets, maxBodyBytes: config.webhook.maxBodyBytes })
      : undefined,
    manualToken: config.manual ? await resolve(config.manual.token, 'manual.token') : undefined,
    notifier: await createNotifier(config, resolve, env, logger),
    astro: config.astro
      ? createAstroClient({
          // The local stack points the client at the Astro emulator.
          baseUrl: env.ASTRO_IDENTITY_SYNC_ASTRO_API_URL ?? config.astro.baseUrl,
          token: await resolve(config.astro.token, 'astro.token'),
        })
      : undefined,
    drivers: {
      aws: (target) => {
        if (target.cloud !== 'aws') throw new Error(`not an AWS target: ${target.id}`);
        return createTrustPolicyDriver(iam, target.roleArn, limits);
      },
    },
  };
}

/** The config is the variable's text, or a reference (aws-ssm:/..., aws-sm:...) to where the text is kept. */
async function readConfig(env: Env, resolve: SecretResolver): Promise<Config> {
  const raw = env[CONFIG_VAR];
  if (raw === undefined || raw.trim() === '') {
    throw new ValidationError(
      `${CONFIG_VAR} is not set: give the config (JSON or YAML) or an aws-ssm:/aws-sm: reference`,
      {
        code: 'invalid_config',
      },
    );
  }
  const text = /^(aws-ssm|aws-sm):/.test(raw.trim()) ? await resolve(raw.trim(), CONFIG_VAR) : raw;
  return parseConfig(text);
}

async function createNotifier(
  config: Config,
  resolve: SecretResolver,
  env: Env,
  logger: PipelineLogger,
): Promise<Notifier> {
  const slack = config.slack;
  const options = { logger };
  if (slack.mode === 'off') return createSlackNotifier({ mode: 'off' }, options);
  if (slack.mode === 'webhook') {
    const webhookUrl = await resolve(slack.webhookUrl, 'slack.webhookUrl');
    return createSlackNotifier({ mode: 'webhook', webhookUrl, notify: slack.notify }, options);
  }
  const apiUrl = env.ASTRO_IDENTITY_SYNC_SLACK_API_URL;
  return createSlackNotifier(
    {
      mode: 'web-api',
      token: await resolve(slack.token, 'slack.token'),
      channel: slack.channel,
      notify: slack.notify,
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    },
    options,
  );
}
