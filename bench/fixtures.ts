/**
 * Deterministic inputs for every benchmark: Astro-like namespaces from a fixed seed, Deployments as the Astro API
 * returns them, role ARNs, configs and the events each entry point takes.
 */

import { Console } from 'node:console';
import { Writable } from 'node:stream';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { SQSEvent } from 'aws-lambda';
import { awsAdapter } from '../functions/aws/aws-adapter.ts';
import { handlerDeps } from '../functions/aws/handler-deps.ts';
import { createLambdaLogger } from '../functions/aws/lambda-logger.ts';
import { createLambdaMetrics } from '../functions/aws/lambda-metrics.ts';
import { createTrustPolicyLimits, trustPolicyIo } from '../functions/aws/trust-policy-io.ts';
import { logLevelOf, readSettings } from '../functions/common/env-settings.ts';
import { EventBridgeRule } from '../local/aws-emulator/eventbridge-rule.ts';
import type { EventEntry } from '../local/aws-emulator/server.ts';
import { SqsQueue } from '../local/aws-emulator/sqs-queue.ts';
import { LOCAL_BUS, LOCAL_DEAD_LETTER_QUEUE, LOCAL_EVENTS_QUEUE, LOCAL_RULE } from '../local/aws-stack.ts';
import type { Config } from '../shared/config.ts';
import type { Deployment } from '../shared/intake/deployment.ts';
import { deploymentSchema } from '../shared/intake/deployment.ts';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../shared/intake/queue-envelopes.ts';
import { awsRoleTrustKind, type RoleTrust } from '../shared/plan/aws/role-trust-kind.ts';
import type { BatchItem } from '../shared/reconcile/process-batch.ts';
import { registerKind, type TargetKind, TargetRegistry } from '../shared/reconcile/target-kind.ts';

export const BENCH_SEED = 20_261_108;
export const BENCH_ACCOUNT = '123456789012';
export const BENCH_ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/B3NCH0123456789ABCDEF0123456789A';
/** A quota large enough for 50 Deployments (300 exact subjects) on one shared role; the config allows up to 65536. */
export const LARGE_QUOTA = 65_536;

export const EC2_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Ec2', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** mulberry32: a tiny seeded PRNG, so every run benchmarks the same namespaces. */
export function seededRandom(seed = BENCH_SEED): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ADJECTIVES = ['nebular', 'cosmic', 'stellar', 'quasarian', 'galactic', 'lunar', 'solar', 'orbital', 'radiant'];
const NOUNS = ['gravity', 'lens', 'orbit', 'nebula', 'comet', 'pulsar', 'horizon', 'quasar', 'meteor', 'aurora'];

export interface BenchDeployment {
  readonly namespace: string;
  readonly airflowVersion: string;
  readonly raw: Record<string, unknown>;
}

/** `count` unique Astro-style namespaces (`stellar-orbit-4821`), Airflow 2 and 3 mixed, from a fixed seed. */
export function benchDeployments(
  count: number,
  options: { roleArn: (index: number) => string; seed?: number; prefix?: string },
): BenchDeployment[] {
  const random = seededRandom(options.seed ?? BENCH_SEED);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const seen = new Set<string>();
  const result: BenchDeployment[] = [];
  for (let attempt = 0; result.length < count && attempt < count * 20; attempt++) {
    const namespace = `${options.prefix ?? ''}${pick(ADJECTIVES)}-${pick(NOUNS)}-${1000 + Math.floor(random() * 9000)}`;
    if (seen.has(namespace)) continue;
    seen.add(namespace);
    const index = result.length;
    const airflow2 = random() < 0.5;
    const airflowVersion = airflow2 ? '2.10.3' : '3.0.2';
    const raw = {
      id: `clbench${String(index).padStart(6, '0')}${namespace.replace(/-/g, '').slice(0, 12)}`,
      name: `bench-${index}`,
      namespace,
      organizationId: 'clorgbench00000000000000',
      workspaceId: 'clwsbench000000000000000',
      clusterId: 'clclbench000000000000000',
      cloudProvider: 'AWS',
      region: 'us-east-1',
      type: 'DEDICATED',
      airflowVersion,
      astroRuntimeVersion: airflow2 ? '12.4.0' : '3.0-1',
      status: 'HEALTHY',
      createdAt: '2026-11-20T10:00:00Z',
      updatedAt: '2026-11-20T10:00:00Z',
      oidcIssuerUrl: BENCH_ISSUER,
      effectiveWorkloadIdentity: options.roleArn(index),
    };
    result.push({ namespace, airflowVersion, raw });
  }
  if (result.length < count) throw new Error(`could not generate ${count} unique namespaces`);
  return result;
}

export function roleArn(roleName: string): string {
  return `arn:aws:iam::${BENCH_ACCOUNT}:role/${roleName}`;
}

/** The reconciler's config: AWS only, Slack off (the CLI path has no Slack either), quota as given. */
export function benchConfig(options: { maxSize?: number; wildcard?: boolean } = {}): string {
  return JSON.stringify({
    aws: { allowedRoles: [`arn:aws:iam::${BENCH_ACCOUNT}:role/astro-*`], trustPolicyMaxSize: options.maxSize ?? 2048 },
    wildcard: { enabled: options.wildcard === true },
    slack: { mode: 'off' },
  });
}

/** The environment the AWS functions read, pointed at the emulator. */
export function handlerEnv(endpoint: string, config: string): Record<string, string> {
  return {
    ASTRO_IDENTITY_SYNC_CONFIG: config,
    ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: endpoint,
    AWS_REGION: 'us-east-1',
    LOG_LEVEL: 'SILENT',
  };
}

/**
 * The reconciler's deps with its metrics as in Lambda (recorded and serialized as EMF on every invocation, so their
 * cost is in the figures) but written to nowhere: a bench run prints its tables, not thousands of EMF lines.
 */
export function benchHandlerDeps(env: Record<string, string>): ReturnType<typeof handlerDeps> {
  const logger = createLambdaLogger(logLevelOf(env));
  const metrics = createLambdaMetrics(env, 'reconciler', logger);
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const quiet = new Console({ stdout: discard, stderr: discard });
  // Powertools writes EMF through a Console of its own on stdout, one per instance (the per-dimension lines come from
  // singleMetric instances); the field is not private, only undocumented.
  const powertools = metrics.powertools as unknown as { console: Console; singleMetric(): { console: Console } };
  const single = powertools.singleMetric.bind(powertools);
  powertools.console = quiet;
  powertools.singleMetric = () => Object.assign(single(), { console: quiet });
  return handlerDeps(env, { logger, metrics });
}

export function deploymentEvent(raw: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'deployment.created',
    timestamp: '2026-11-20T10:00:05Z',
    data: { organizationId: raw.organizationId, deploymentId: raw.id, deployment: raw },
  };
}

/** What the webhook publishes for one event: a PutEvents entry on the bus, `{webhookId, event}` as the detail. */
export function busEntry(raw: Record<string, unknown>, webhookId: string): EventEntry {
  return {
    EventBusName: LOCAL_BUS,
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: JSON.stringify({ webhookId, event: deploymentEvent(raw) }),
    Resources: [],
  };
}

/** The rule of infra/aws on the bus, forwarding to `queue` as EventBridge does (the envelope is the body). */
export function busRule(queue: SqsQueue): EventBridgeRule {
  return new EventBridgeRule({
    name: LOCAL_RULE,
    eventBusName: LOCAL_BUS,
    eventPattern: { source: [EVENT_SOURCE], 'detail-type': [EVENT_DETAIL_TYPE] },
    accountId: BENCH_ACCOUNT,
    target: (envelope) => queue.send(envelope),
  });
}

/** The events queue; a benchmark run that needs a retry is wrong, so a failed message is dead-lettered at once. */
export function eventsQueue(): SqsQueue {
  return new SqsQueue({
    name: LOCAL_EVENTS_QUEUE,
    accountId: BENCH_ACCOUNT,
    visibilityTimeoutMs: 50,
    redrivePolicy: {
      deadLetterQueue: new SqsQueue({ name: LOCAL_DEAD_LETTER_QUEUE, accountId: BENCH_ACCOUNT }),
      maxReceiveCount: 1,
    },
  });
}

/**
 * One SQS batch as the event source mapping delivers it, made by the emulated rule and queue (envelope bodies, real
 * message ids, receipt handles and digests), for benchmarks that invoke the handler directly.
 */
export function sqsEvent(items: ReadonlyArray<{ raw: Record<string, unknown>; webhookId: string }>): SQSEvent {
  const queue = eventsQueue();
  busRule(queue).deliver(items.map((item) => busEntry(item.raw, item.webhookId)));
  const event: SQSEvent = { Records: [] };
  for (let batch = queue.receive(10); batch.length > 0; batch = queue.receive(10)) {
    for (const m of batch) {
      event.Records.push({ ...m, eventSource: 'aws:sqs', eventSourceARN: queue.arn, awsRegion: queue.region });
    }
  }
  queue.close();
  return event;
}

export function batchItem(raw: Record<string, unknown>, eventId: string): BatchItem {
  const deployment: Deployment = deploymentSchema.parse(raw);
  return { eventId, type: 'deployment.created', deployment };
}

/** The subjects a person copies from the Astro UI for one Deployment (the six service accounts). */
export function manualSubjects(namespace: string, airflowVersion: string): string[] {
  const web = airflowVersion.startsWith('2.') ? 'webserver' : 'apiserver';
  const accounts = ['dag-processor', 'scheduler', 'triggerer', web, 'worker'].map(
    (c) => `${namespace}-${c}-serviceaccount`,
  );
  return [...accounts, `${namespace}-kpo`].map((sa) => `system:serviceaccount:${namespace}:${sa}`);
}

/** The IAM target kind the functions register, bound to `iam`; `wrap` may instrument the planner (the bench's meters). */
export function awsTargets(
  iam: IAMClient,
  config: Config,
  wrap: (kind: TargetKind<'aws-role', RoleTrust>) => TargetKind<'aws-role', RoleTrust> = (kind) => kind,
): TargetRegistry {
  const limits = createTrustPolicyLimits(iam, {
    configured: config.aws.trustPolicyMaxSize,
    live: config.aws.useLiveQuota,
  });
  return new TargetRegistry([
    registerKind(wrap(awsRoleTrustKind), (target) => trustPolicyIo({ iam, writer: iam }, target.roleArn, limits)),
  ]);
}

/** The reconciler's IAM client, built from the same settings the functions read. */
export function benchIamClient(env: Record<string, string>): IAMClient {
  return awsAdapter.clients(readSettings(env)).iam;
}
