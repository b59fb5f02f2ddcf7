/**
 * Part 2: the physical limit. API calls per event (converged: 1 read; changed: read + write + verify read, plus a
 * settle re-read where the reconciler does one; 10 events on one role in one batch: one write) and our own processing time per event, with the emulator adding a fixed
 * latency to every call. Each event is processed on its own (one invocation), on its own role, sequentially.
 *
 * The emulator runs in a child process, so everything this process spends is ours. Per event:
 * - own CPU: process.cpuUsage (user + system): our code, the SDK, the Node HTTP client, GC;
 * - busy: the event loop's active wall time (performance.eventLoopUtilization);
 * - network: wall time inside the SDK client's HTTP handler (latency, loopback, the emulator's work);
 * - SDK: wall time inside `iam.send` outside HTTP (serialize, SigV4, retry strategy, XML parse);
 * - our code (core level): wall - `iam.send` - the reconciler's sleeps = targets, grant, planner, policy decode +
 *   JSON.parse, JSON.stringify, the read-plan-write-verify loop; `plan` is the part inside the driver's planner;
 * - waits: the reconciler's deliberate sleeps (backoff, settle);
 * - the crude upper bound wall - IAM calls x latency (JSON only).
 * Two levels: handler (the reconciler Lambda handler given a one-message SQS batch: envelope and schema parse, middy,
 * Powertools logger, pipeline, Slack off) and core (processBatch with the real trust-policy driver and IAM SDK client).
 */
import { createReconcilerHandler } from '../functions/aws/reconciler-handler.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import { parseConfig } from '../shared/config-text.ts';
import { parseTrustPolicyText } from '../shared/plan/aws/policy-document.ts';
import { planAwsTrustPolicy } from '../shared/plan/aws/trust-policy-planner.ts';
import { desiredGrant } from '../shared/plan/subjects.ts';
import { processBatch } from '../shared/reconcile/process-batch.ts';
import { type CostStats, type Cursor, type Process, sampleLevel, stats } from './event-samples.ts';
import * as fx from './fixtures.ts';
import { meterClient, microseconds, timedSleep, timeSync } from './meters.ts';
import { startRemoteEmulator } from './remote-emulator.ts';
import { median } from './stats.ts';

export type { CostStats } from './event-samples.ts';

export type CostLevel = 'handler' | 'core';

export interface EventCostResult {
  readonly latencyMs: number;
  readonly quota: number;
  readonly levels: ReadonlyArray<{ level: CostLevel; converged: CostStats; changed: CostStats }>;
  /** Pure functions on the same documents, microseconds per call (median over documents, hot loop). */
  readonly pure: { readonly parseUs: number; readonly planUs: number; readonly stringifyUs: number };
  readonly batch: {
    readonly events: number;
    readonly reads: number;
    readonly writes: number;
    readonly granted: number;
  };
}

const COST_QUOTA = 4096;

export async function measureEventCosts(options: {
  events: number;
  latencyMs: number;
  warmup?: number;
}): Promise<EventCostResult> {
  const warmup = options.warmup ?? 3;
  const total = warmup + options.events;
  const aws = await startRemoteEmulator({ quota: COST_QUOTA });
  const cursor: Cursor = { index: 0 };
  const configText = fx.benchConfig({ maxSize: COST_QUOTA });
  const env = fx.handlerEnv(aws.url, configText);
  const deps = fx.benchHandlerDeps(env);
  const iam = fx.benchIamClient(env);
  try {
    await aws.setLatency(options.latencyMs);
    const handler = createReconcilerHandler(deps);
    const { clients } = await deps.runtime();
    const handlerMeter = meterClient(clients.iam, clients.iamWriter);
    // The handler builds its own drivers and sleeps: not separable at this level.
    [handlerMeter.plan, handlerMeter.sleep] = [Number.NaN, Number.NaN];
    // One event per invocation, as the event source mapping delivers an event that arrives on its own. The SQS
    // answer names only the messages to retry, so the emulator's calls tell granted from unchanged.
    const viaHandler: Process = async (raw, id) => {
      const answer = await handler(fx.sqsEvent([{ raw, webhookId: id }]), lambdaContext('reconciler'));
      const retry = answer !== undefined && 'batchItemFailures' in answer ? answer.batchItemFailures.length : 0;
      return retry > 0 ? ['failed'] : undefined;
    };
    const config = parseConfig(configText);
    const random = fx.seededRandom(); // the reconciler's jitter, fixed at this level
    const coreMeter = meterClient(iam);
    const targets = fx.awsTargets(iam, config, (kind) => ({
      ...kind,
      grant: (current, input) => timeSync(coreMeter, () => kind.grant(current, input)),
    }));
    const viaCore: Process = async (raw, id) =>
      (await processBatch([fx.batchItem(raw, id)], { config, targets, sleep: timedSleep(coreMeter), random })).flatMap(
        (r) => r.results.map((x) => x.status),
      );

    const handlerRun = await sampleLevel(aws, cursor, handlerMeter, viaHandler, 'astro-cost-', total, warmup);
    const coreRun = await sampleLevel(aws, cursor, coreMeter, viaCore, 'astro-core-', total, warmup);
    await aws.setLatency(0);

    // The pure work on the same documents, without I/O: decode + parse what GetRole returns, plan, serialize.
    const parse: number[] = [];
    const plan: number[] = [];
    const stringify: number[] = [];
    for (const { event, role, before } of handlerRun.events.slice(warmup)) {
      const encoded = encodeURIComponent(before);
      const policy = parseTrustPolicyText(encoded);
      const grant = desiredGrant({ namespace: event.namespace, selection: { airflowVersion: event.airflowVersion } });
      const input = { policy, roleArn: fx.roleArn(role), issuer: fx.BENCH_ISSUER, grant, maxSize: COST_QUOTA };
      const next = planAwsTrustPolicy(input).policy;
      parse.push(microseconds(() => parseTrustPolicyText(encoded), 200));
      plan.push(microseconds(() => planAwsTrustPolicy(input), 200));
      stringify.push(microseconds(() => JSON.stringify(next), 200));
    }

    // Ten Deployments on one role in one SQS batch: one read, one write, one verify read.
    await aws.setTrustPolicyQuota(fx.LARGE_QUOTA);
    const batchRole = 'astro-cost-batch';
    await aws.putRole(batchRole, fx.EC2_TRUST);
    const batchDeps = fx.benchHandlerDeps(fx.handlerEnv(aws.url, fx.benchConfig({ maxSize: fx.LARGE_QUOTA })));
    const batchList = fx.benchDeployments(10, { roleArn: () => fx.roleArn(batchRole), seed: 7 });
    await createReconcilerHandler(batchDeps)(
      fx.sqsEvent(batchList.map((d, i) => ({ raw: d.raw, webhookId: `msg_bench_${i}` }))),
      lambdaContext('reconciler'),
    );
    const batchCalls = (await aws.callsSince(cursor.index)).filter(
      (c) => c.service === 'iam' && c.roleName === batchRole,
    );
    (await batchDeps.runtime()).close();
    const finalText = await aws.getTrustPolicyText(batchRole);
    const granted = batchList.filter((d) =>
      fx.manualSubjects(d.namespace, d.airflowVersion).every((s) => finalText.includes(`"${s}"`)),
    ).length;

    const level = (name: CostLevel, run: typeof handlerRun) => ({
      level: name,
      converged: stats(run.samples.converged, options.latencyMs),
      changed: stats(run.samples.changed, options.latencyMs),
    });
    return {
      latencyMs: options.latencyMs,
      quota: COST_QUOTA,
      levels: [level('handler', handlerRun), level('core', coreRun)],
      pure: { parseUs: median(parse), planUs: median(plan), stringifyUs: median(stringify) },
      batch: {
        events: batchList.length,
        reads: batchCalls.filter((c) => c.action === 'GetRole').length,
        writes: batchCalls.filter((c) => c.action === 'UpdateAssumeRolePolicy').length,
        granted,
      },
    };
  } finally {
    iam.destroy();
    await deps.runtime().then(
      (r) => r.close(),
      () => undefined,
    );
    await aws.close();
  }
}
