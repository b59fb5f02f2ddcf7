import { type Config, parseJsonConfig, SECRET_REF } from '../../shared/config.ts';
import { createIntake, type Intake } from '../../shared/intake/intake.ts';
import { ReplayGuard } from '../../shared/intake/replay-guard.ts';
import type { ReplayRecord } from '../../shared/intake/replay-record.ts';
import type { IntakeAdapter, SecretResolver } from './cloud-adapter.ts';
import { CONFIG_VAR, type Env, readSettings, type Settings } from './env-settings.ts';
import type { Logger } from './logger.ts';

/** What every function has after its cold start: settings, clients, the config and the intake. */
export interface IntakeRuntime<Clients> {
  readonly cloud: IntakeAdapter<Clients>['cloud'];
  readonly settings: Settings;
  readonly clients: Clients;
  readonly config: Config;
  readonly intake: Intake;
  readonly resolve: SecretResolver;
  readonly logger: Logger;
  readonly classify: IntakeAdapter<Clients>['classify'];
  /** Webhook ids handled by any instance (see IntakeAdapter.replayRecord). */
  readonly replays: ReplayRecord | undefined;
  /** Loads what every invocation will use and is not loaded yet (IntakeAdapter.warm); never needed for correctness. */
  warm(): Promise<void>;
  /** Releases the clients (the local stack stops instances; a function instance just ends). */
  close(): void;
}

/**
 * The first half of every cold start, the same on each cloud: settings validated from the explicit environment,
 * the adapter's clients and secret resolver, the config (its text, or where the variable says it is kept), then the
 * intake with its secrets resolved. Nothing here reads process.env.
 */
export async function buildIntakeRuntime<Clients>(
  adapter: IntakeAdapter<Clients>,
  env: Env,
  logger: Logger,
): Promise<IntakeRuntime<Clients>> {
  const settings = readSettings(env);
  const clients = adapter.clients(settings);
  const resolve = adapter.secrets(clients, settings);
  const text = settings.configText;
  // Lambda's environment holds 4 KB, so the variable may name where the document is kept instead.
  const document = SECRET_REF.test(text) ? await resolve(text, CONFIG_VAR) : text;
  // The YAML parser is loaded only for a config that is not JSON.
  const config = parseJsonConfig(document) ?? (await import('../../shared/config-text.ts')).parseConfig(document);
  const webhookSecrets = await Promise.all(
    config.webhook?.secrets.map((ref, i) => resolve(ref, `webhook.secrets.${i}`)) ?? [],
  );
  const intake = createIntake({
    maxBodyBytes: config.webhook?.maxBodyBytes,
    webhookSecrets,
    manualToken: config.manual ? await resolve(config.manual.token, 'manual.token') : undefined,
    replays: new ReplayGuard(),
  });
  for (const warning of adapter.coldStartWarnings?.(clients) ?? []) logger.warn(warning);
  return {
    cloud: adapter.cloud,
    replays: adapter.replayRecord?.(clients),
    settings,
    clients,
    config,
    intake,
    resolve,
    logger,
    classify: (error) => adapter.classify(error),
    warm: async () => {
      await adapter.warm?.(clients, settings);
    },
    close: () => adapter.close?.(clients),
  };
}

/**
 * Cold start once per instance, reused while it is warm; a failed one (a secret not filled yet, a throttled read) is
 * forgotten, so the next invocation tries again instead of failing until the instance is recycled.
 */
export function coldStart<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
