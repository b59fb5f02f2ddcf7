import type { Config } from '../../shared/config.ts';
import type { BatchOptions } from '../../shared/reconcile/process-batch.ts';
import { TargetRegistry } from '../../shared/reconcile/target-kind.ts';
import { TargetLanes } from '../../shared/reconcile/target-lanes.ts';
import type { AstroClient } from './astro-client.ts';
import type { CloudAdapter, SecretResolver } from './cloud-adapter.ts';
import type { Env, Settings } from './env-settings.ts';
import { buildIntakeRuntime, coldStart, type IntakeRuntime } from './intake-runtime.ts';
import { type LastSummaryStore, memoryLastSummary } from './last-summary.ts';
import type { Logger } from './logger.ts';
import type { Notifier } from './pipeline.ts';
import type { SlackSettings } from './slack-notifier.ts';
import type { SoftwareSource } from './software-source.ts';

/** Everything a function that reconciles needs, built once per cold start by `buildRuntime`. */
export interface Runtime<Clients> extends IntakeRuntime<Clients> {
  readonly targets: TargetRegistry;
  readonly notifier: Notifier;
  /** The Astro API, when configured: the source of truth for every event's Deployment. */
  readonly astro: AstroClient | undefined;
  /** Astronomer Software's Deployments from Houston, when `software.token` is configured. */
  readonly software: SoftwareSource | undefined;
  /** Serializes work per target across concurrent requests on this instance. */
  readonly lanes: TargetLanes;
  /** The last poll and sweep summaries told to Slack (in memory by default: see LastSummaryStore). */
  readonly summaries: LastSummaryStore;
  /** The pipeline's options for one run. */
  batch(options?: { dryRun?: boolean }): BatchOptions;
}

/**
 * The cold-start sequence every reconciling function runs, whatever its cloud: the intake half (settings, clients,
 * secrets, config), then the adapter's target kinds, the Slack notifier, the Astro client and the per-target lanes.
 * A cloud contributes only its adapter.
 */
export async function buildRuntime<Clients>(
  adapter: CloudAdapter<Clients>,
  env: Env,
  logger: Logger,
): Promise<Runtime<Clients>> {
  const base = await buildIntakeRuntime(adapter, env, logger);
  const { config, settings, resolve } = base;
  const targets = new TargetRegistry(adapter.targets(base.clients, config));
  const closed = closedAllowlist(adapter.cloud, config);
  // A function whose own cloud allows nothing denies every target: say so once, at cold start, not per event.
  if (closed !== undefined) logger.warn(`${closed} is empty: this function will deny every ${adapter.cloud} target`);
  const [slack, astro, software] = await Promise.all([
    createNotifier(config, settings, resolve, logger),
    createAstro(config, settings, resolve),
    createSoftware(config, settings, resolve),
  ]);
  const lanes = new TargetLanes();
  return {
    ...base,
    targets,
    notifier: slack.notifier,
    // Slack's code too: the first batch of a cold instance is told (or not, by policy) without loading it.
    warm: async () => {
      await Promise.all([base.warm(), slack.prepare()]);
    },
    astro,
    software,
    lanes,
    summaries: memoryLastSummary(),
    batch: (options = {}) => ({ config, targets, lanes, dryRun: options.dryRun === true }),
  };
}

async function createAstro(
  config: Config,
  settings: Settings,
  resolve: SecretResolver,
): Promise<AstroClient | undefined> {
  if (config.astro === undefined) return undefined;
  // The Astro and Houston clients load with a config that names them (a cold-start cost only then).
  const { createAstroClient } = await import('./astro-client.ts');
  return createAstroClient({
    baseUrl: settings.astro.baseUrl ?? config.astro.baseUrl,
    ...(settings.astro.retryMinMs === undefined ? {} : { minTimeoutMs: settings.astro.retryMinMs }),
    pageSize: config.astro.pageSize,
    requestsPerSecond: config.astro.requestsPerSecond,
    timeoutMs: settings.timeouts.requestMs,
    token: await resolve(config.astro.token, 'astro.token'),
  });
}

async function createSoftware(
  config: Config,
  settings: Settings,
  resolve: SecretResolver,
): Promise<SoftwareSource | undefined> {
  const software = config.software;
  if (software?.token === undefined) return undefined;
  const [{ createHoustonClient, houstonUrl }, { createSoftwareSource }] = await Promise.all([
    import('./houston-client.ts'),
    import('./software-source.ts'),
  ]);
  const client = createHoustonClient({
    url: settings.houstonUrl ?? houstonUrl(software.baseDomain),
    token: await resolve(software.token, 'software.token'),
    timeoutMs: settings.timeouts.requestMs,
    ...(settings.astro.retryMinMs === undefined ? {} : { minTimeoutMs: settings.astro.retryMinMs }),
  });
  return createSoftwareSource(client, software);
}

async function createNotifier(
  config: Config,
  settings: Settings,
  resolve: SecretResolver,
  logger: Logger,
): Promise<{ notifier: Notifier; prepare: () => Promise<unknown> }> {
  const slack = config.slack;
  const options = { logger, timeoutMs: settings.timeouts.requestMs };
  // The secrets are read now, so a missing one fails the cold start as before; only the code waits.
  let slackSettings: SlackSettings;
  if (slack.mode === 'off') slackSettings = { mode: 'off' };
  else if (slack.mode === 'webhook') {
    const webhookUrl = await resolve(slack.webhookUrl, 'slack.webhookUrl');
    slackSettings = { mode: 'webhook', webhookUrl, notify: slack.notify };
  } else {
    const token = await resolve(slack.token, 'slack.token');
    slackSettings = {
      mode: 'web-api',
      token,
      channel: slack.channel,
      notify: slack.notify,
      ...(settings.slackApiUrl ? { slackApiUrl: settings.slackApiUrl } : {}),
    };
  }
  const real = coldStart(async () => (await import('./slack-notifier.ts')).createSlackNotifier(slackSettings, options));
  // The notifier's code (every batch asks it, even with Slack off) and its transport's SDK, which the notifier loads
  // on its first message from the same chunk.
  const sdk = {
    off: async () => undefined,
    'web-api': () => import('@slack/web-api'),
    webhook: () => import('@slack/webhook'),
  }[slackSettings.mode];
  return { notifier: lazyNotifier(real), prepare: () => Promise.all([real(), sdk()]) };
}

/**
 * The notifier with its code (the notifier, its transports and the message formatters) loaded by the first message,
 * not at module load: an invocation that changes nothing tells Slack nothing. Sessions are taken from the one real
 * notifier, so they share its outbox as before.
 */
function lazyNotifier(real: () => Promise<Notifier>): Notifier {
  return {
    notify: async (report) => (await real()).notify(report),
    rejected: async (event) => (await real()).rejected(event),
    post: async (message, context) => (await real()).post(message, context),
    notifyBatch: async (reports, rejected) => (await real()).notifyBatch(reports, rejected),
    session: (deadline, metrics) => lazyNotifier(coldStart(async () => (await real()).session(deadline, metrics))),
  };
}

/** The allowlist that leaves this cloud's function nothing to write, or undefined. */
export function closedAllowlist(cloud: CloudAdapter<unknown>['cloud'], config: Config): string | undefined {
  if (cloud === 'aws') return config.aws.allowedRoles.length === 0 ? 'aws.allowedRoles' : undefined;
  if (cloud === 'azure') return config.azure.allowedIdentities.length === 0 ? 'azure.allowedIdentities' : undefined;
  return config.gcp.allowedServiceAccounts.length + config.gcp.allowedProjects.length === 0
    ? 'gcp.allowedServiceAccounts (and gcp.allowedProjects)'
    : undefined;
}
