/**
 * Part 4: a burst. 200 Deployments created at once across 10 roles, on DEDICATED clusters with the namespace
 * wildcard enabled (one `system:serviceaccount:<ns>:*` pattern each, so 20 per role fit the default 2048 quota).
 *
 * - stack: the real path. 200 signed webhooks posted concurrently to the webhook Function URL, PutEvents to the
 *   emulated bus, its rule forwarding to the events queue, the event source mapping delivering batches of up to 10
 *   to the reconciler handler one batch at a time (reserved concurrency 1), Slack notified per change. Converged =
 *   every webhook answered and the queue drained.
 * - one batch: processBatch over the 200 at once (an SQS batch, the sync CLI): one read-plan-write-verify per role.
 * - lanes: 200 concurrent one-event processBatch calls on one warm instance sharing TargetLanes.
 * Zero lost: every namespace's pattern is checked in its role's final trust policy.
 */
import type { AwsEmulator } from '../local/aws-emulator/server.ts';
import { startAwsEmulator } from '../local/aws-emulator/server.ts';
import { defaultLocalConfig, startAwsStack } from '../local/aws-stack.ts';
import { parseConfig } from '../shared/config-text.ts';
import { signWebhook } from '../shared/intake/webhook-signer.ts';
import { processBatch } from '../shared/reconcile/process-batch.ts';
import { TargetLanes } from '../shared/reconcile/target-lanes.ts';
import {
  awsTargets,
  BENCH_ISSUER,
  type BenchDeployment,
  batchItem,
  benchConfig,
  benchDeployments,
  benchIamClient,
  deploymentEvent,
  EC2_TRUST,
  handlerEnv,
  roleArn,
  seededRandom,
} from './fixtures.ts';

export type BurstPath = 'stack' | 'one-batch' | 'lanes';

export interface BurstRow {
  readonly path: BurstPath;
  readonly deployments: number;
  readonly roles: number;
  /** Until every namespace is granted (stack: the events queue drained). */
  readonly convergeMs: number;
  /** Stack only: until all 200 webhooks were answered 202. */
  readonly acceptedMs?: number;
  readonly reads: number;
  readonly writes: number;
  readonly putEvents?: number;
  /** Stack only: reconciler invocations (SQS batches) the event source mapping made. */
  readonly invocations?: number;
  readonly lost: number;
  readonly failedEvents: number;
  readonly slackMessages?: number;
}

const roleName = (i: number, roles: number) => `astro-burst-${String(i % roles).padStart(2, '0')}`;

function setUp(aws: AwsEmulator, count: number, roles: number, seed: number): BenchDeployment[] {
  for (let r = 0; r < roles; r++) aws.putRole(roleName(r, roles), EC2_TRUST);
  return benchDeployments(count, { roleArn: (i) => roleArn(roleName(i, roles)), seed });
}

/** Deployments whose `<ns>:*` pattern is missing from their role at the end. */
function countLost(aws: AwsEmulator, deployments: readonly BenchDeployment[], roles: number): number {
  const texts = new Map<string, string>();
  for (let r = 0; r < roles; r++) texts.set(roleName(r, roles), aws.getTrustPolicyText(roleName(r, roles)));
  return deployments.filter((d, i) => {
    const text = texts.get(roleName(i, roles)) ?? '';
    return !text.includes(`"system:serviceaccount:${d.namespace}:*"`);
  }).length;
}

function iamCounts(aws: AwsEmulator) {
  return { reads: aws.count('GetRole'), writes: aws.count('UpdateAssumeRolePolicy') };
}

async function burstThroughStack(count: number, roles: number): Promise<BurstRow> {
  const stack = await startAwsStack({
    config: `${defaultLocalConfig()}wildcard:\n  enabled: true\n`,
    logLevel: 'SILENT',
    oidcProviders: [BENCH_ISSUER],
  });
  try {
    const deployments = setUp(stack.aws, count, roles, 42);
    stack.aws.resetCalls();
    const started = performance.now();
    const statuses = await Promise.all(
      deployments.map(async (d, i) => {
        const body = JSON.stringify(deploymentEvent(d.raw));
        const headers = signWebhook({ secret: stack.webhookSecret, id: `msg_burst_${i}`, body });
        const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const acceptedMs = performance.now() - started;
    await stack.idle();
    const convergeMs = performance.now() - started;
    const rejected = statuses.filter((s) => s !== 202).length;
    return {
      path: 'stack',
      deployments: count,
      roles,
      convergeMs,
      acceptedMs,
      ...iamCounts(stack.aws),
      putEvents: stack.aws.count('PutEvents'),
      invocations: stack.eventSourceMapping.invocations.length,
      lost: countLost(stack.aws, deployments, roles),
      failedEvents: rejected + stack.deadLetters.length,
      slackMessages: stack.slack.messages.length,
    };
  } finally {
    await stack.close();
  }
}

async function burstThroughBatch(count: number, roles: number, path: 'one-batch' | 'lanes'): Promise<BurstRow> {
  const aws = await startAwsEmulator({ oidcProviders: [BENCH_ISSUER] });
  const configText = benchConfig({ wildcard: true });
  const iam = benchIamClient(handlerEnv(aws.url, configText));
  try {
    const config = parseConfig(configText);
    const deployments = setUp(aws, count, roles, 42);
    const items = deployments.map((d, i) => batchItem(d.raw, `msg_burst_${i}`));
    const options = {
      config,
      targets: awsTargets(iam, config),
      lanes: new TargetLanes(),
      random: seededRandom(), // the reconciler's jitter: fixed, so runs repeat
    };
    aws.resetCalls();
    const started = performance.now();
    const reports =
      path === 'one-batch'
        ? await processBatch(items, options)
        : (await Promise.all(items.map((item) => processBatch([item], options)))).flat();
    const convergeMs = performance.now() - started;
    const failedEvents = reports.filter((r) => r.results.some((x) => x.status !== 'granted')).length;
    return {
      path,
      deployments: count,
      roles,
      convergeMs,
      ...iamCounts(aws),
      lost: countLost(aws, deployments, roles),
      failedEvents,
    };
  } finally {
    iam.destroy();
    await aws.close();
  }
}

export async function measureBurst(options: { deployments: number; roles: number }): Promise<BurstRow[]> {
  return [
    await burstThroughStack(options.deployments, options.roles),
    await burstThroughBatch(options.deployments, options.roles, 'one-batch'),
    await burstThroughBatch(options.deployments, options.roles, 'lanes'),
  ];
}
