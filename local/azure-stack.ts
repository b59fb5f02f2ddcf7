import { randomBytes } from 'node:crypto';
import { type QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { type AzureHandlerDeps, azureHandlerDeps } from '../functions/azure/handler-deps.ts';
import { type AzureHttpHandlers, createAzureHttpHandlers } from '../functions/azure/http-handlers.ts';
import { createQueueHandler, type QueueResult } from '../functions/azure/queue-handler.ts';
import { AZURE_HOST_JSON } from '../scripts/package-files.ts';
import { type AstroEmulator, startAstroEmulator } from './astro-emulator/server.ts';
import { type AzureEmulator, type AzureEmulatorOptions, startAzureEmulator } from './azure-emulator/server.ts';
import {
  type AzureFunctionsHttpServer,
  type LocalLogLevel,
  type LogLine,
  startAzureFunctionsHttpServer,
} from './azure-functions-http-server.ts';
import {
  bindQueueMessage,
  createQueueOutcomes,
  decodeBase64MessageText,
  encodeQueueMessage,
  type QueueHost,
  startQueueHost,
} from './azure-queue-host.ts';
import { type Azurite, type AzuriteOptions, startAzurite } from './azurite.ts';
import { type SlackEmulator, startSlackEmulator } from './slack-emulator/server.ts';

/** The queue the `reconciler` function is bound to (ASTRO_IDENTITY_SYNC_QUEUE_NAME's default). */
const LOCAL_QUEUE_NAME = 'astro-identity-sync-events';

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

interface AzureStackOptions {
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
  /** Deliveries before a failing queue message goes to `<queue>-poison` (host.json queues.maxDequeueCount, 5). */
  readonly maxDequeueCount?: number;
  /**
   * The local host's other host.json `extensions.queues` settings. batchSize and newBatchThreshold default to the
   * app's host.json (8 and 4); visibilityTimeout to 0 s (the app's host.json says 30 s) so redeliveries are immediate.
   */
  readonly queue?: {
    readonly visibilityTimeoutSeconds?: number;
    readonly batchSize?: number;
    readonly newBatchThreshold?: number;
    /** While the queue is empty (the host's maxPollingInterval, 1 min in Azure); default 1 s. */
    readonly maxPollingIntervalMs?: number;
  };
  readonly azurite?: AzuriteOptions;
  /** ARM client retry delay; small by default so fault tests stay fast (production default 1000 ms). */
  readonly retryDelayMs?: number;
  readonly emulator?: AzureEmulatorOptions;
}

export interface QueueDelivery {
  /** The id the queue gave the message. */
  readonly messageId: string;
  /** Its dequeue count when it was settled: the deliveries it took. */
  readonly attempts: number;
  /** The last successful invocation's result; undefined when the message was poisoned. */
  readonly result: QueueResult | undefined;
  readonly poisoned: boolean;
  /** Every failed delivery's error (whichever instance took it), and why a message was poisoned unread. */
  readonly errors: readonly string[];
}

/** A message in `<queue>-poison`, as a person replaying it would read it. */
export interface PoisonMessage {
  readonly messageId: string;
  /** Exactly what the host copied: the original message text, still base64 when it was. */
  readonly messageText: string;
  /** The decoded text, or undefined when the text is not base64 (the reason it was poisoned). */
  readonly text: string | undefined;
  /** What the handler would be given: the JSON-parsed text, the text itself, or undefined when not base64. */
  readonly message: unknown;
  readonly insertedOn: Date;
}

/**
 * A separate function app instance (own cold start, own lanes, own queue host), to race another instance on one
 * identity. Its `enqueue` sends to the shared queue like any sender: whichever instance's host receives the message
 * processes it, as in Azure.
 */
export interface AzureInstance {
  readonly deps: AzureHandlerDeps;
  readonly http: AzureHttpHandlers;
  enqueue(message: unknown): Promise<QueueDelivery>;
  enqueueRaw(messageText: string): Promise<QueueDelivery>;
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
  /** The function app instance behind the HTTP routes. */
  readonly instance: AzureInstance;
  /** The Azure Storage emulator holding the queues; its connection string is `env.AzureWebJobsStorage`. */
  readonly azurite: Azurite;
  readonly queue: QueueClient;
  readonly poisonQueue: QueueClient;
  /**
   * Sends a message as a sender does for the host's default base64 encoding (its JSON text, base64-encoded) and
   * resolves when a host has finished with it: completed, or moved to `<queue>-poison`.
   */
  enqueue(message: unknown): Promise<QueueDelivery>;
  /** Sends this exact message text (not encoded) and waits as `enqueue` does: for non-base64 or non-JSON tests. */
  enqueueRaw(messageText: string): Promise<QueueDelivery>;
  /** What `<queue>-poison` holds, oldest first (peeked, so left in place; at most 32, the service's peek limit). */
  poisonMessages(): Promise<PoisonMessage[]>;
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
 * real function handlers: HTTP routes served on loopback through the @azure/functions HttpRequest type, and the
 * storage queue trigger: Azurite holds the queue and its poison queue, and each instance runs a host loop that
 * receives, decodes and settles messages with the real @azure/storage-queue client as the Functions host does.
 * Real @azure/arm-msi client, real HTTPS.
 */
export async function startAzureStack(options: AzureStackOptions = {}): Promise<AzureStack> {
  const slackToken = 'xoxb-local-test-token';
  const astroToken = 'astro-local-token';
  const [azure, slack, astro, azurite] = await Promise.all([
    startAzureEmulator(options.emulator),
    startSlackEmulator({ token: slackToken }),
    startAstroEmulator({ token: astroToken }),
    startAzurite(options.azurite),
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
    ASTRO_IDENTITY_SYNC_AZURE_KEY_VAULT_ENDPOINT: azure.keyVaultEndpoint,
    ASTRO_IDENTITY_SYNC_AZURE_TOKEN: azure.token,
    ASTRO_IDENTITY_SYNC_AZURE_RETRY_DELAY_MS: String(options.retryDelayMs ?? 5),
    ASTRO_IDENTITY_SYNC_SLACK_API_URL: slack.apiUrl,
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: astro.url,
    // The app setting the queue trigger's `connection` names.
    AzureWebJobsStorage: azurite.connectionString,
    ASTRO_IDENTITY_SYNC_QUEUE_NAME: LOCAL_QUEUE_NAME,
    WEBHOOK_SECRET: webhookSecret,
    MANUAL_TOKEN: manualToken,
    SLACK_BOT_TOKEN: slackToken,
    ASTRO_API_TOKEN: astroToken,
    ...options.env,
  };
  const logs: LogLine[] = [];
  const context = { logLevel: options.logLevel ?? 'SILENT', onLog: (line: LogLine) => void logs.push(line) } as const;

  const storage = QueueServiceClient.fromConnectionString(env.AzureWebJobsStorage ?? azurite.connectionString);
  const queueName = env.ASTRO_IDENTITY_SYNC_QUEUE_NAME ?? LOCAL_QUEUE_NAME;
  const queue = storage.getQueueClient(queueName);
  const poisonQueue = storage.getQueueClient(`${queueName}-poison`);
  await Promise.all([queue.createIfNotExists(), poisonQueue.createIfNotExists()]);

  const hostJson = AZURE_HOST_JSON.extensions.queues;
  const hostSettings = {
    maxDequeueCount: options.maxDequeueCount ?? hostJson.maxDequeueCount,
    visibilityTimeoutSeconds: options.queue?.visibilityTimeoutSeconds ?? 0,
    batchSize: options.queue?.batchSize ?? hostJson.batchSize,
    newBatchThreshold: options.queue?.newBatchThreshold ?? hostJson.newBatchThreshold,
    maxPollingIntervalMs: options.queue?.maxPollingIntervalMs ?? 1_000,
  };
  const outcomes = createQueueOutcomes<QueueResult>();
  const hosts: QueueHost[] = [];

  const send = async (messageText: string): Promise<QueueDelivery> => {
    const { messageId } = await queue.sendMessage(messageText);
    // In Azure the listener would find it within its polling interval; here every instance looks at once.
    for (const host of hosts) host.wake();
    const settled = await outcomes.settled(messageId);
    return {
      messageId,
      attempts: settled.attempts,
      result: settled.poisoned ? undefined : settled.result,
      poisoned: settled.poisoned,
      errors: settled.errors,
    };
  };
  const enqueue = (message: unknown) => send(encodeQueueMessage(message));

  const newInstance = (): AzureInstance => {
    const deps = azureHandlerDeps(env);
    hosts.push(
      startQueueHost({
        queue,
        poisonQueue,
        handler: createQueueHandler(deps),
        functionName: 'reconciler',
        context,
        ...hostSettings,
        onOutcome: (outcome) => outcomes.record(outcome),
        onLog: (level, text) => void logs.push({ functionName: 'host', level, text }),
      }),
    );
    return { deps, http: createAzureHttpHandlers(deps), enqueue, enqueueRaw: send };
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
    azurite,
    queue,
    poisonQueue,
    enqueue,
    enqueueRaw: send,
    async poisonMessages() {
      const { peekedMessageItems } = await poisonQueue.peekMessages({ numberOfMessages: 32 });
      return peekedMessageItems.map((item) => {
        const text = decodeBase64MessageText(item.messageText);
        return {
          messageId: item.messageId,
          messageText: item.messageText,
          text,
          message: text === undefined ? undefined : bindQueueMessage(text),
          insertedOn: item.insertedOn,
        };
      });
    },
    logs,
    seedIdentity,
    newInstance,
    async close() {
      // Hosts first: an invocation in flight still talks to the emulators and Azurite.
      await Promise.all(hosts.map((host) => host.close()));
      outcomes.close('the Azure stack closed');
      await Promise.all([functions.close(), azure.close(), slack.close(), astro.close(), azurite.close()]);
    },
  };
}
