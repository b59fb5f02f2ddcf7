import { type Config, parseConfig } from '../../shared/config.ts';
import { ValidationError } from '../../shared/errors.ts';
import { ReplayGuard } from '../../shared/intake/replay-guard.ts';
import { createWebhookVerifier, type WebhookVerifier } from '../../shared/intake/webhook-verifier.ts';
import type { Target } from '../../shared/plan/targets.ts';
import type { DriverFactory } from '../../shared/reconcile/process-batch.ts';
import { TargetLanes } from '../../shared/reconcile/target-lanes.ts';
import { type AstroClient, createAstroClient } from './astro-client.ts';
import type { Notifier, PipelineLogger } from './pipeline.ts';
import { createSlackNotifier } from './slack-notifier.ts';

export type Env = Readonly<Record<string, string | undefined>>;
/** Resolves a secret reference (`env:NAME`, `aws-sm:...`) to its value; never logs it. */
export type SecretResolver = (ref: string, field: string) => Promise<string>;

/** What every cloud's handlers share, built once per cold start. */
export interface FunctionRuntime {
  readonly config: Config;
  readonly verifier: WebhookVerifier | undefined;
  readonly manualToken: string | undefined;
  readonly notifier: Notifier;
  /** The Astro API, when configured: the source of truth for every event's Deployment. */
  readonly astro: AstroClient | undefined;
  readonly drivers: Partial<Record<Target['cloud'], DriverFactory>>;
  /** Serializes work per target across concurrent requests on this instance. */
  readonly lanes: TargetLanes;
  /** Webhook ids already accepted by this instance within the signature tolerance. */
  readonly replays: ReplayGuard;
}

export const CONFIG_VAR = 'ASTRO_IDENTITY_SYNC_CONFIG';

/** The config is the variable's text, or (where the cloud has a store for it) a reference to where it is kept. */
export async function readConfig(env: Env, resolve: SecretResolver, reference: RegExp): Promise<Config> {
  const raw = env[CONFIG_VAR]?.trim();
  if (raw === undefined || raw === '') {
    throw new ValidationError(`${CONFIG_VAR} is not set: give the config document (JSON or YAML)`, {
      code: 'invalid_config',
    });
  }
  return parseConfig(reference.test(raw) ? await resolve(raw, CONFIG_VAR) : raw);
}

/** Environment-only secrets: GCP (Secret Manager mounted as env vars) and Azure (Key Vault references in app settings). */
export function createEnvSecretResolver(env: Env, cloud: string): SecretResolver {
  return async (ref, field) => {
    if (!ref.startsWith('env:')) {
      throw new ValidationError(
        `"${ref.slice(0, ref.indexOf(':'))}:" references are not read directly on ${cloud}; expose the secret as an environment variable (the platform resolves it) and use env:NAME`,
        { field, code: 'invalid_config' },
      );
    }
    const value = env[ref.slice(4)];
    if (value === undefined || value.trim() === '') {
      throw new ValidationError(`secret ${ref} is empty or not set`, { field, code: 'invalid_config' });
    }
    return value.trim();
  };
}

export async function buildFunctionRuntime(input: {
  config: Config;
  env: Env;
  resolve: SecretResolver;
  logger: PipelineLogger;
  drivers: Partial<Record<Target['cloud'], DriverFactory>>;
}): Promise<FunctionRuntime> {
  const { config, env, resolve, logger } = input;
  const secrets = await Promise.all(
    config.webhook?.secrets.map((ref, i) => resolve(ref, `webhook.secrets.${i}`)) ?? [],
  );
  return {
    config,
    verifier: config.webhook
      ? createWebhookVerifier({ secrets, maxBodyBytes: config.webhook.maxBodyBytes })
      : undefined,
    manualToken: config.manual ? await resolve(config.manual.token, 'manual.token') : undefined,
    notifier: await createNotifier(config, resolve, env, logger),
    astro: config.astro
      ? createAstroClient({
          // The local stack points the client at the Astro emulator.
          baseUrl: env.ASTRO_IDENTITY_SYNC_ASTRO_API_URL ?? config.astro.baseUrl,
          // The local stack shortens the backoff so outage tests run in milliseconds, not seconds.
          ...(env.ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS
            ? { minTimeoutMs: Number(env.ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS) }
            : {}),
          token: await resolve(config.astro.token, 'astro.token'),
        })
      : undefined,
    drivers: input.drivers,
    lanes: new TargetLanes(),
    replays: new ReplayGuard(),
  };
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
  const token = await resolve(slack.token, 'slack.token');
  return createSlackNotifier(
    {
      mode: 'web-api',
      token,
      channel: slack.channel,
      notify: slack.notify,
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    },
    options,
  );
}
