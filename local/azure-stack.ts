import { randomBytes, randomUUID } from 'node:crypto';
import { type AzureHandlerDeps, azureHandlerDeps } from '../functions/azure/handler-deps.ts';
import { type AzureHttpHandlers, createAzureHttpHandlers } from '../functions/azure/http-handlers.ts';
import { createQueueHandler, type QueueResult } from '../functions/azure/queue-handler.ts';
import { type AstroEmulator, startAstroEmulator } from './astro-emulator/server.ts';
import { type AzureEmulator, type AzureEmulatorOptions, startAzureEmulator } from './azure-emulator/server.ts';
import {
  type AzureFunctionsHttpServer,
  invocationContext,
  type LocalLogLevel,
  type LogLine,
  startAzureFunctionsHttpServer,
} from './azure-functions-http-server.ts';
import { type SlackEmulator, startSlackEmulator } from './slack-emulator/server.ts';

export const LOCAL_SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';
export const LOCAL_RESOURCE_GROUP = 'astro-rg';
/** The identity the stack seeds and the default config allows (`astro-*`). */
export const LOCAL_IDENTITY = 'astro-mi';
/** An AKS OIDC issuer; Azure compares it byte for byte, trailing slash included. */
export const LOCAL_AKS_ISSUER =
  'https://westus2.oic.prod-aks.azure.com/00000000-0000-0000-0000-00000000000a/cluster-1/';

/** The ARM resource id a Deployment's `effectiveWorkloadIdentity` carries on Azure. */
export function identityResourceId(name: string, resourceGroup = LOCAL_RESOURCE_GROUP): string {
  return `/subscriptions/${LOCAL_SUBSCRIPTION}/resourceGroups/${resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

export interface AzureStackOptions {
  /** Port for the function app's HTTP routes (0: any free port). */
  readonly port?: number;
  /** `whsec_...`; a fresh one by default. */
  readonly webhookSecret?: string;
  readonly manualToken?: string;
  /** The config document (YAML or JSON); `defaultAzureConfig()` by default. */
  readonly config?: string;
  /** What the functions' logs print to the console (every line is kept in `logs` regardless). */
  readonly logLevel?: LocalLogLevel;
  /** Extra environment for the functions (secret values referenced by the config). */
  readonly env?: Record<string, string>;
  /** Deliveries before a failing queue message goes to `poison` (host.json queues.maxDequeueCount, default 5). */
  readonly maxDequeueCount?: number;
  /** ARM client retry delay; small by default so fault tests stay fast (production default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly emulator?: AzureEmulatorOptions;
}

export interface QueueDelivery {
  readonly attempts: number;
  /** The last successful invocation's result; undefined when the message was poisoned. */
  readonly result: QueueResult | undefined;
  readonly poisoned: boolean;
  readonly errors: readonly string[];
}

/** A separate function app instance (own cold start, own lanes), to race another instance on one identity. */
export interface AzureInstance {
  readonly deps: AzureHandlerDeps;
  readonly http: AzureHttpHandlers;
  enqueue(message: unknown): Promise<QueueDelivery>;
}

export interface AzureStack {
  readonly azure: AzureEmulator;
  readonly slack: SlackEmulator;
  /** The emulated Astro API; the functions use it when the config has an `astro` section. */
  readonly astro: AstroEmulator;
  readonly functions: AzureFunctionsHttpServer;
  readonly functionsUrl: string;
  readonly webhookUrl: string;
  readonly manualUrl: string;
  readonly webhookSecret: string;
  readonly manualToken: string;
  readonly env: Record<string, string>;
  /** The function app instance behind the HTTP routes and `enqueue`. */
  readonly instance: AzureInstance;
  /** Delivers one queue message to the real queue handler with the host's retry semantics. */
  enqueue(message: unknown): Promise<QueueDelivery>;
  /** Messages that failed maxDequeueCount times (what the host moves to `<queue>-poison`). */
  readonly poison: Array<{ message: unknown; errors: readonly string[] }>;
  /** Every log line the functions wrote. */
  readonly logs: LogLine[];
  /** Creates an empty user-assigned identity in the emulator. */
  seedIdentity(name: string, resourceGroup?: string): void;
  newInstance(): AzureInstance;
  close(): Promise<void>;
}

export function defaultAzureConfig(): string {
  return [
    'webhook:',
    '  secrets: ["env:WEBHOOK_SECRET"]',
    'manual:',
    '  token: env:MANUAL_TOKEN',
    'azure:',
    `  allowedIdentities: ["${LOCAL_SUBSCRIPTION}/${LOCAL_RESOURCE_GROUP}/astro-*"]`,
    'slack:',
    '  mode: web-api',
    '  token: env:SLACK_BOT_TOKEN',
    '  channel: "#platform-iam"',
    '',
  ].join('\n');
}

/**
 * The Azure side of the local stack: the ARM emulator (HTTPS, self-signed CA), the Slack and Astro emulators, and the
 * real function handlers: HTTP routes served on loopback through the @azure/functions HttpRequest type, and a queue
 * delivering messages to the real queue handler as the Functions host would. Real @azure/arm-msi client, real HTTPS.
 */
export async function startAzureStack(options: AzureStackOptions = {}): Promise<AzureStack> {
  const slackToken = 'xoxb-local-test-token';
  const astroToken = 'astro-local-token';
  const [azure, slack, astro] = await Promise.all([
    startAzureEmulator(options.emulator),
    startSlackEmulator({ token: slackToken }),
    startAstroEmulator({ token: astroToken }),
  ]);
  const seedIdentity = (name: string, resourceGroup = LOCAL_RESOURCE_GROUP) =>
    azure.putIdentity(LOCAL_SUBSCRIPTION, resourceGroup, name);
  seedIdentity(LOCAL_IDENTITY);
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const manualToken = options.manualToken ?? randomBytes(18).toString('base64url');
  const env: Record<string, string> = {
    ASTRO_IDENTITY_SYNC_CONFIG: options.config ?? defaultAzureConfig(),
    ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT: azure.url,
    ASTRO_IDENTITY_SYNC_AZURE_CA: azure.ca,
    ASTRO_IDENTITY_SYNC_AZURE_TOKEN: azure.token,
    ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS: String(options.retryDelayMs ?? 5),
    ASTRO_IDENTITY_SYNC_SLACK_API_URL: slack.apiUrl,
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: astro.url,
    WEBHOOK_SECRET: webhookSecret,
    MANUAL_TOKEN: manualToken,
    SLACK_BOT_TOKEN: slackToken,
    ASTRO_API_TOKEN: astroToken,
    ...options.env,
  };
  const logs: LogLine[] = [];
  const context = { logLevel: options.logLevel ?? 'SILENT', onLog: (line: LogLine) => void logs.push(line) } as const;
  const poison: AzureStack['poison'] = [];
  const maxDequeueCount = options.maxDequeueCount ?? 5;

  const newInstance = (): AzureInstance => {
    const deps = azureHandlerDeps(env);
    const queue = createQueueHandler(deps);
    return {
      deps,
      http: createAzureHttpHandlers(deps),
      async enqueue(message) {
        const id = randomUUID();
        const errors: string[] = [];
        // The host dequeues, invokes, and on an exception makes the message visible again, up to maxDequeueCount.
        for (let dequeueCount = 1; dequeueCount <= maxDequeueCount; dequeueCount++) {
          const ctx = invocationContext('reconciler', { ...context, triggerMetadata: { id, dequeueCount } });
          try {
            const result = await queue(message, ctx);
            return { attempts: dequeueCount, result, poisoned: false, errors };
          } catch (error) {
            errors.push(error instanceof Error ? error.message : String(error));
          }
        }
        poison.push({ message, errors });
        return { attempts: maxDequeueCount, result: undefined, poisoned: true, errors };
      },
    };
  };

  const instance = newInstance();
  const functions = await startAzureFunctionsHttpServer({
    port: options.port ?? 0,
    context,
    routes: {
      '/api/webhook': { name: 'webhook', handler: instance.http.webhook },
      '/api/manual': { name: 'manual', handler: instance.http.manual },
    },
  });
  return {
    azure,
    slack,
    astro,
    functions,
    functionsUrl: functions.url,
    webhookUrl: `${functions.url}/api/webhook`,
    manualUrl: `${functions.url}/api/manual`,
    webhookSecret,
    manualToken,
    env,
    instance,
    enqueue: (message) => instance.enqueue(message),
    poison,
    logs,
    seedIdentity,
    newInstance,
    async close() {
      await Promise.all([functions.close(), azure.close(), slack.close(), astro.close()]);
    },
  };
}
