import { randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { logLevelOf } from '../functions/common/env-settings.ts';
import { createPinoLogger } from '../functions/common/logger.ts';
import { type GcpHandlerDeps, gcpHandlerDeps } from '../functions/gcp/handler-deps.ts';
import { createGcpHttpFunction } from '../functions/gcp/http-function.ts';
import { createGcpPubSubFunction } from '../functions/gcp/pubsub-function.ts';
import { createGcpScheduleFunction } from '../functions/gcp/schedule-function.ts';
import { deliverUnparsableJson } from '../functions/gcp/unparsable-json.ts';
import type { QueuedEvent } from '../shared/intake/queued-event.ts';
import { type AstroEmulator, startAstroEmulator } from './astro-emulator/server.ts';
import { sampleProject } from './gcp-emulator/project-seed.ts';
import { type GcpEmulator, startGcpEmulator } from './gcp-emulator/server.ts';
import { IMPERSONATED_SA, LOCAL_ASTRO_GCP_PROJECT } from './identity-samples.ts';
import { type SlackEmulator, startSlackEmulator } from './slack-emulator/server.ts';

export const LOCAL_POOL = 'astro-gke-prod.svc.id.goog';
const LOCAL_GCP_TOKEN = 'ya29.local-test-token';

interface GcpStackOptions {
  readonly port?: number;
  readonly webhookSecret?: string;
  readonly manualToken?: string;
  readonly config?: string;
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  readonly env?: Record<string, string>;
  /** Pub/Sub redeliveries before a message goes to the dead-letter topic (default 4). */
  readonly maxDeliveryAttempts?: number;
  /** Every JSON line the functions log (at `logLevel`), as Cloud Logging would receive it; default: stdout. */
  readonly onLogLine?: (line: string) => void;
}

export interface GcpStack {
  readonly gcp: GcpEmulator;
  readonly slack: SlackEmulator;
  readonly astro: AstroEmulator;
  /** The HTTP function's URL: POST `${url}/` is the webhook, `${url}/manual` manual invocation. */
  readonly url: string;
  readonly webhookUrl: string;
  readonly manualUrl: string;
  /** The Pub/Sub CloudEvent function's URL (what an Eventarc push subscription would call). */
  readonly eventUrl: string;
  /** The schedule CloudEvent function's URL (what the Cloud Scheduler topic's push subscription calls). */
  readonly scheduleUrl: string;
  readonly webhookSecret: string;
  readonly manualToken: string;
  readonly env: Record<string, string>;
  /** Messages that failed every delivery attempt (the dead-letter topic). */
  readonly deadLetters: QueuedEvent[];
  /** Publishes to the topic: delivers a Pub/Sub push CloudEvent to the event function, redelivering on failure. */
  publish(message: unknown): Promise<{ attempts: number; delivered: boolean }>;
  /** What Cloud Scheduler does: publishes `{"task"}` to the schedule topic, which triggers the schedule function. */
  schedule(task: 'poll' | 'sweep'): Promise<{ status: number }>;
  close(): Promise<void>;
}

/**
 * `npm start`'s GCP config: the default plus the impersonation path: Astro-managed service accounts allowlisted as
 * principals, and one customer service account they may impersonate for `bi-*` Deployments.
 */
export function demoGcpConfig(): string {
  const astroIdentities = [`*@${LOCAL_ASTRO_GCP_PROJECT}.iam.gserviceaccount.com`, sampleProject.identities];
  return defaultGcpConfig()
    .replace(
      'gcp:\n',
      `gcp:\n  allowedWorkloadIdentityPrincipals: ${JSON.stringify(astroIdentities)}\n${sampleProject.config.gcp}\n`,
    )
    .concat(`targets:
  - name: impersonation
    match: { names: ["bi-*"] }
    gcp: { serviceAccount: "${IMPERSONATED_SA}", grant: token-creator }
${sampleProject.config.targets}
`);
}

function defaultGcpConfig(): string {
  return `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
manual: { token: "env:MANUAL_TOKEN" }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: { default: ${LOCAL_POOL} }
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#platform-iam" }
`;
}

let registered = 0;

/**
 * The GCP side of the local stack: the IAM emulator, Slack and Astro emulators, and both functions served by the
 * Functions Framework's own Express server (raw body, routing and CloudEvent decoding as on Cloud Functions).
 */
export async function startGcpStack(options: GcpStackOptions = {}): Promise<GcpStack> {
  const slackToken = 'xoxb-local-test-token';
  const [gcp, slack, astro] = await Promise.all([
    startGcpEmulator({ token: LOCAL_GCP_TOKEN, pools: [LOCAL_POOL] }),
    startSlackEmulator({ token: slackToken }),
    startAstroEmulator({ token: 'astro-local-token' }),
  ]);
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const manualToken = options.manualToken ?? randomBytes(18).toString('base64url');
  const env: Record<string, string> = {
    ASTRO_IDENTITY_SYNC_CONFIG: options.config ?? defaultGcpConfig(),
    ASTRO_IDENTITY_SYNC_GCP_ROOT_URL: gcp.url,
    ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN: LOCAL_GCP_TOKEN,
    ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS: '5',
    ASTRO_IDENTITY_SYNC_SLACK_API_URL: slack.apiUrl,
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: astro.url,
    ASTRO_IDENTITY_SYNC_ASTRO_RETRY_MIN_MS: '5',
    LOG_LEVEL: options.logLevel ?? 'SILENT',
    WEBHOOK_SECRET: webhookSecret,
    MANUAL_TOKEN: manualToken,
    SLACK_BOT_TOKEN: slackToken,
    ASTRO_API_TOKEN: 'astro-local-token',
    ...options.env,
  };
  // One instance serves both functions here, so they share a cold start and the per-target lanes, as one
  // Cloud Run instance would with concurrency > 1.
  const { onLogLine } = options;
  const deps: GcpHandlerDeps = gcpHandlerDeps(
    env,
    onLogLine === undefined
      ? {}
      : { logger: createPinoLogger({ level: logLevelOf(env), cloud: 'gcp', destination: { write: onLogLine } }) },
  );
  // As functions/gcp/index.ts does before the framework builds its server.
  deliverUnparsableJson();
  registered += 1;
  const httpName = `astroIdentitySync${registered}`;
  const eventName = `astroIdentitySyncEvents${registered}`;
  http(httpName, createGcpHttpFunction(deps));
  cloudEvent(eventName, createGcpPubSubFunction(deps));
  const scheduleName = `astroIdentitySyncSchedule${registered}`;
  cloudEvent(scheduleName, createGcpScheduleFunction(deps));
  const httpServer = await listen(getTestServer(httpName), options.port ?? 0);
  const eventServer = await listen(getTestServer(eventName), 0);
  const scheduleServer = await listen(getTestServer(scheduleName), 0);
  const deadLetters: QueuedEvent[] = [];
  const maxAttempts = options.maxDeliveryAttempts ?? 4;

  return {
    gcp,
    slack,
    astro,
    url: httpServer.url,
    webhookUrl: `${httpServer.url}/`,
    manualUrl: `${httpServer.url}/manual`,
    eventUrl: eventServer.url,
    scheduleUrl: scheduleServer.url,
    webhookSecret,
    manualToken,
    env,
    deadLetters,
    async publish(message) {
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        const response = await fetch(eventServer.url, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents+json' },
          body: JSON.stringify(pubsubEvent(message)),
        });
        await response.arrayBuffer();
        // Pub/Sub push: any 2xx acknowledges, anything else is redelivered.
        if (response.ok) return { attempts: attempt, delivered: true };
      }
      deadLetters.push(message as QueuedEvent);
      return { attempts: maxAttempts, delivered: false };
    },
    async schedule(task) {
      const response = await fetch(scheduleServer.url, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body: JSON.stringify(pubsubEvent({ task })),
      });
      await response.arrayBuffer();
      return { status: response.status };
    },
    async close() {
      await Promise.all([
        httpServer.close(),
        eventServer.close(),
        scheduleServer.close(),
        gcp.close(),
        slack.close(),
        astro.close(),
      ]);
    },
  };
}

/** A Pub/Sub "message published" CloudEvent, as Eventarc pushes it to the function. */
function pubsubEvent(message: unknown) {
  return {
    specversion: '1.0',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/acme-platform/topics/astro-identity-sync',
    id: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: {
      message: { data: Buffer.from(JSON.stringify(message)).toString('base64'), messageId: randomUUID() },
      subscription: 'projects/acme-platform/subscriptions/astro-identity-sync',
    },
  };
}

async function listen(server: Server, port: number): Promise<{ url: string; close(): Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
