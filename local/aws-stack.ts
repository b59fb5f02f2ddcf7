import { randomBytes, randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { EVENT_DETAIL_TYPE } from '../functions/aws/event-publisher.ts';
import { type HandlerDeps, handlerDeps } from '../functions/aws/handler-deps.ts';
import { createManualHandler } from '../functions/aws/manual-handler.ts';
import { createReconcilerHandler } from '../functions/aws/reconciler-handler.ts';
import { createWebhookHandler } from '../functions/aws/webhook-handler.ts';
import { type AstroEmulator, startAstroEmulator } from './astro-emulator/server.ts';
import { type AwsEmulator, startAwsEmulator } from './aws-emulator/server.ts';
import { lambdaContext } from './lambda-context.ts';
import { type LambdaHttpServer, startLambdaHttpServer } from './lambda-http-server.ts';
import { type SlackEmulator, startSlackEmulator } from './slack-emulator/server.ts';

export const LOCAL_BUS = 'astro-identity-sync';
export const LOCAL_ACCOUNT = '123456789012';

export interface AwsStackOptions {
  /** Port for the functions' HTTP endpoints (0: any free port). */
  readonly port?: number;
  /** `whsec_...`; a fresh one by default. */
  readonly webhookSecret?: string;
  readonly manualToken?: string;
  /** The config document (YAML or JSON); `defaultLocalConfig()` by default. */
  readonly config?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** Extra environment for the functions (secret values referenced by the config). */
  readonly env?: Record<string, string>;
  /** How often a failed EventBridge delivery is retried, as Lambda's async invoke does (default 2). */
  readonly asyncRetries?: number;
}

export interface AwsStack {
  readonly aws: AwsEmulator;
  /** The emulated Astro API; the functions use it when the config has an `astro` section. */
  readonly astro: AstroEmulator;
  readonly slack: SlackEmulator;
  readonly functions: LambdaHttpServer;
  readonly webhookUrl: string;
  readonly manualUrl: string;
  readonly webhookSecret: string;
  readonly manualToken: string;
  readonly env: Record<string, string>;
  /** Reconciler invocations that threw after every retry (what would land in the dead-letter queue). */
  readonly deadLetters: unknown[];
  /** Resolves when every event published so far has been delivered to the reconciler. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The demo's config: like the default, plus the Astro API as the source of truth, which enables the poller and
 * the sweep (every event's Deployment is then re-read from the API).
 */
export function demoConfig(): string {
  return `${defaultLocalConfig()}astro:\n  token: env:ASTRO_API_TOKEN\n  organizationId: clorg0000000000000000000\n`;
}

export function defaultLocalConfig(): string {
  return [
    'webhook:',
    '  secrets: ["env:WEBHOOK_SECRET"]',
    'manual:',
    '  token: env:MANUAL_TOKEN',
    'aws:',
    `  allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"]`,
    'slack:',
    '  mode: web-api',
    '  token: env:SLACK_BOT_TOKEN',
    '  channel: "#platform-iam"',
    '',
  ].join('\n');
}

/**
 * The AWS side of the local stack: the IAM/EventBridge emulator, the Slack emulator and the three Lambda handlers,
 * wired as in AWS (Function URLs for webhook and manual, the bus delivering to the reconciler). Real handlers, real
 * SDK clients, real HTTP; only the cloud is emulated.
 */
export async function startAwsStack(options: AwsStackOptions = {}): Promise<AwsStack> {
  const slackToken = 'xoxb-local-test-token';
  const astroToken = 'astro-local-token';
  const [aws, slack, astro] = await Promise.all([
    startAwsEmulator(),
    startSlackEmulator({ token: slackToken }),
    startAstroEmulator({ token: astroToken }),
  ]);
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const manualToken = options.manualToken ?? randomBytes(18).toString('base64url');
  const env: Record<string, string> = {
    ASTRO_IDENTITY_SYNC_CONFIG: options.config ?? defaultLocalConfig(),
    ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: aws.url,
    ASTRO_IDENTITY_SYNC_EVENT_BUS: LOCAL_BUS,
    ASTRO_IDENTITY_SYNC_SLACK_API_URL: slack.apiUrl,
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: options.logLevel ?? 'SILENT',
    WEBHOOK_SECRET: webhookSecret,
    MANUAL_TOKEN: manualToken,
    SLACK_BOT_TOKEN: slackToken,
    ASTRO_API_TOKEN: astroToken,
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: astro.url,
    ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS: '5',
    ...options.env,
  };
  // One set of deps per function, as each Lambda function has its own cold start.
  const webhookDeps = handlerDeps(env);
  const manualDeps = handlerDeps(env);
  const reconcilerDeps = handlerDeps(env);
  const reconciler = createReconcilerHandler(reconcilerDeps);
  const deadLetters: unknown[] = [];
  const retries = options.asyncRetries ?? 2;

  aws.onEvents(async (entries) => {
    for (const entry of entries) {
      if (entry.DetailType !== EVENT_DETAIL_TYPE) continue;
      const event = toEventBridgeEvent(entry.Source, entry.DetailType, entry.Detail);
      for (let attempt = 0; attempt <= retries; attempt++) {
        try {
          await reconciler(event, lambdaContext('astro-identity-sync-reconciler'));
          break;
        } catch (error) {
          if (attempt === retries) deadLetters.push({ event, error: String(error) });
        }
      }
    }
  });

  const functions = await startLambdaHttpServer({
    port: options.port ?? 0,
    routes: {
      '/webhook': { name: 'astro-identity-sync-webhook', handler: createWebhookHandler(webhookDeps) },
      '/manual': { name: 'astro-identity-sync-manual', handler: createManualHandler(manualDeps) },
    },
  });
  const closeDeps = (deps: HandlerDeps) =>
    deps.runtime().then(
      (r) => [r.iam.destroy(), r.events.destroy()],
      () => undefined,
    );
  return {
    aws,
    astro,
    slack,
    functions,
    webhookUrl: `${functions.url}/webhook`,
    manualUrl: `${functions.url}/manual`,
    webhookSecret,
    manualToken,
    env,
    deadLetters,
    idle: () => aws.idle(),
    async close() {
      await aws.idle();
      await Promise.all([functions.close(), aws.close(), slack.close(), astro.close()]);
      await Promise.all([webhookDeps, manualDeps, reconcilerDeps].map(closeDeps));
    },
  };
}

function toEventBridgeEvent(source: string, detailType: string, detail: string): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source,
    account: LOCAL_ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: JSON.parse(detail),
  };
}
