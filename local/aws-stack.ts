import { randomBytes } from 'node:crypto';
import { handlerDeps } from '../functions/aws/handler-deps.ts';
import { createManualHandler } from '../functions/aws/manual-handler.ts';
import { createReconcilerHandler } from '../functions/aws/reconciler-handler.ts';
import { webhookDeps as createWebhookDeps } from '../functions/aws/webhook-deps.ts';
import { createWebhookHandler } from '../functions/aws/webhook-handler.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../shared/intake/queue-envelopes.ts';
import { type AstroEmulator, startAstroEmulator } from './astro-emulator/server.ts';
import { EventBridgeRule } from './aws-emulator/eventbridge-rule.ts';
import { type AwsEmulator, startAwsEmulator } from './aws-emulator/server.ts';
import { type DeadLetter, SqsEventSourceMapping } from './aws-emulator/sqs-event-source-mapping.ts';
import { SqsQueue } from './aws-emulator/sqs-queue.ts';
import { type LocalDynamo, startLocalDynamo } from './dynamodb-local.ts';
import { LOCAL_ASTRO_ACCOUNT, SHARED_S3_ROLE } from './identity-samples.ts';
import { lambdaContext } from './lambda-context.ts';
import { type LambdaHttpServer, startLambdaHttpServer } from './lambda-http-server.ts';
import { type SlackEmulator, startSlackEmulator } from './slack-emulator/server.ts';

export const LOCAL_BUS = 'astro-identity-sync';
export const LOCAL_ACCOUNT = '123456789012';
const LOCAL_REGION = 'us-east-1';
/** Names as the Terraform module (infra/aws) gives them with the default name_prefix. */
export const LOCAL_EVENTS_QUEUE = 'astro-identity-sync-events';
export const LOCAL_DEAD_LETTER_QUEUE = 'astro-identity-sync-dead-letter';
export const LOCAL_RULE = 'astro-identity-sync-deployment-changed';

interface AwsStackOptions {
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
  /** The events queue's redrive policy: receives before a message moves to the dead-letter queue (default 5). */
  readonly maxReceiveCount?: number;
  /** The events queue's visibility timeout (default 50 ms; Terraform: 6x the reconciler timeout + the window). */
  readonly visibilityTimeoutMs?: number;
  /** The event source mapping's batch size (default 10). */
  readonly batchSize?: number;
  /** The event source mapping's maximum batching window (default 20 ms; Terraform: 5 s). */
  readonly batchWindowMs?: number;
  /**
   * Issuers whose IAM OIDC providers exist in the emulated account (default LOCAL_OIDC_ISSUERS). IAM refuses a trust
   * policy naming a missing provider, so a test of that path passes `[]`.
   */
  readonly oidcProviders?: readonly string[];
  /**
   * Start DynamoDB (dynalite) with the lease table and name it to the functions, as Terraform does (default true);
   * false: the functions run without it (writes from different functions are not serialized).
   */
  readonly leaseTable?: boolean;
}

/** The providers an account running the samples has: the samples' EKS cluster and GitHub Actions. */
export const LOCAL_OIDC_ISSUERS: readonly string[] = [
  'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
  'https://token.actions.githubusercontent.com',
];

/** A message the events queue's redrive policy moved to the dead-letter queue. */
export interface AwsDeadLetter extends DeadLetter {
  /** The body parsed: the EventBridge envelope the rule sent. */
  readonly envelope: unknown;
}

export interface AwsStack {
  readonly aws: AwsEmulator;
  /** The lease table's DynamoDB (dynalite), unless started with `leaseTable: false`. */
  readonly dynamo: LocalDynamo | undefined;
  /** The emulated Astro API; the functions use it when the config has an `astro` section. */
  readonly astro: AstroEmulator;
  readonly slack: SlackEmulator;
  readonly functions: LambdaHttpServer;
  readonly webhookUrl: string;
  readonly manualUrl: string;
  readonly webhookSecret: string;
  readonly manualToken: string;
  readonly env: Record<string, string>;
  /** The rule on the bus that feeds the events queue. */
  readonly rule: EventBridgeRule;
  /** The events queue (EventBridge envelopes) and its dead-letter queue. */
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;
  /** The reconciler's event source mapping; `invocations` lists every batch it delivered. */
  readonly eventSourceMapping: SqsEventSourceMapping;
  /** What reached the dead-letter queue, in order, with the receive count and the last delivery's error. */
  readonly deadLetters: AwsDeadLetter[];
  /**
   * Resolves when every event published so far has been delivered and the events queue is drained: nothing visible,
   * nothing in flight, nothing waiting out a visibility timeout, no batching window open.
   */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `npm start`'s AWS config: the local default with the Astro API, plus the identity paths the demo shows: Astro's
 * default roles allowlisted as principals, one shared role that trusts them for `bi-*` Deployments, and missing IAM
 * OIDC providers (a DR cluster's) created.
 */
export function demoConfig(): string {
  return `${defaultLocalConfig().replace(
    'aws:\n',
    `aws:\n  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::${LOCAL_ASTRO_ACCOUNT}:role/astro-wi-*"]\n  createOidcProviders: true\n`,
  )}astro:
  token: env:ASTRO_API_TOKEN
  organizationId: clorg0000000000000000000
targets:
  - name: shared-s3
    match: { names: ["bi-*"] }
    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/${SHARED_S3_ROLE}", trust: workload-identity }
`;
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
 * wired as in AWS (Function URLs for webhook and manual; the bus's rule -> the events queue -> the reconciler's event
 * source mapping, with the queue's redrive policy to the dead-letter queue). Real handlers, real SDK clients, real
 * HTTP; only the cloud is emulated.
 */
export async function startAwsStack(options: AwsStackOptions = {}): Promise<AwsStack> {
  const slackToken = 'xoxb-local-test-token';
  const astroToken = 'astro-local-token';
  const [aws, slack, astro, dynamo] = await Promise.all([
    startAwsEmulator(),
    startSlackEmulator({ token: slackToken }),
    startAstroEmulator({ token: astroToken }),
    options.leaseTable === false ? undefined : startLocalDynamo(),
  ]);
  for (const issuer of options.oidcProviders ?? LOCAL_OIDC_ISSUERS) aws.addOidcProvider(issuer);
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
    // EMF lines on stdout would drown the stack's own output; a test that reads them passes "false".
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...(dynamo === undefined
      ? {}
      : { ASTRO_IDENTITY_SYNC_LEASE_TABLE: dynamo.table, ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT: dynamo.url }),
    ...options.env,
  };
  // One set of deps per function, as each Lambda function has its own cold start.
  const webhookDeps = createWebhookDeps(env);
  const manualDeps = handlerDeps(env, { function: 'manual' });
  const reconcilerDeps = handlerDeps(env, { function: 'reconciler' });
  const reconciler = createReconcilerHandler(reconcilerDeps);
  const deadLetters: AwsDeadLetter[] = [];

  const deadLetterQueue = new SqsQueue({
    name: LOCAL_DEAD_LETTER_QUEUE,
    accountId: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
  });
  const queue = new SqsQueue({
    name: LOCAL_EVENTS_QUEUE,
    accountId: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    visibilityTimeoutMs: options.visibilityTimeoutMs ?? 50,
    redrivePolicy: { deadLetterQueue, maxReceiveCount: options.maxReceiveCount ?? 5 },
  });
  const rule = new EventBridgeRule({
    name: LOCAL_RULE,
    eventBusName: LOCAL_BUS,
    eventPattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
    accountId: LOCAL_ACCOUNT,
    region: LOCAL_REGION,
    target: (envelope) => queue.send(envelope, { senderId: EVENTBRIDGE_SENDER_ID }),
  });
  const eventSourceMapping = new SqsEventSourceMapping({
    queue,
    // The Terraform module gives the reconciler a 300 s timeout.
    invoke: (event) => reconciler(event, lambdaContext('astro-identity-sync-reconciler', 300_000)),
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    ...(options.batchWindowMs === undefined ? {} : { batchWindowMs: options.batchWindowMs }),
    onDeadLetter: (letter) => deadLetters.push({ ...letter, envelope: parseBody(letter.body) }),
  });
  aws.onEvents((entries) => {
    rule.deliver(entries);
  });

  const functions = await startLambdaHttpServer({
    port: options.port ?? 0,
    routes: {
      '/webhook': { name: 'astro-identity-sync-webhook', handler: createWebhookHandler(webhookDeps) },
      '/manual': { name: 'astro-identity-sync-manual', handler: createManualHandler(manualDeps) },
    },
  });
  const closeDeps = (deps: { runtime: () => Promise<{ close(): void }> }) =>
    deps.runtime().then(
      (r) => r.close(),
      () => undefined,
    );
  return {
    aws,
    dynamo,
    astro,
    slack,
    functions,
    webhookUrl: `${functions.url}/webhook`,
    manualUrl: `${functions.url}/manual`,
    webhookSecret,
    manualToken,
    env,
    rule,
    queue,
    deadLetterQueue,
    eventSourceMapping,
    deadLetters,
    async idle() {
      // The bus hands entries to the rule asynchronously, so wait for it first, and again in case the queue's
      // consumer caused more PutEvents.
      do {
        await aws.idle();
        await eventSourceMapping.idle();
        await aws.idle();
      } while (!eventSourceMapping.drained);
    },
    async close() {
      // What is still queued is dropped, as deleting the stack would; a batch in flight finishes first.
      await aws.idle();
      await eventSourceMapping.close();
      queue.close();
      deadLetterQueue.close();
      await Promise.all([functions.close(), aws.close(), slack.close(), astro.close()]);
      await Promise.all([webhookDeps, manualDeps, reconcilerDeps].map(closeDeps));
      await dynamo?.close();
    },
  };
}

/** EventBridge delivers to SQS as an AWS service principal; the SenderId SQS records is an opaque service id. */
const EVENTBRIDGE_SENDER_ID = 'AIDAIEVENTBRIDGELOCAL';

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
