/**
 * Part 2's sampling: one event at a time, on its own role, timed from every side (wall, CPU, event-loop busy time, the
 * SDK client's HTTP handler and `send`, the planner, the reconciler's sleeps) and counted on the emulator.
 */
import { performance } from 'node:perf_hooks';
import * as fx from './fixtures.ts';
import { manualEdit } from './manual-cli.ts';
import type { Meter } from './meters.ts';
import type { RemoteEmulator } from './remote-emulator.ts';
import { median, p95 } from './stats.ts';

export interface CostStats {
  readonly events: number;
  /** Distinct IAM call counts seen per event (one value when every event cost the same). */
  readonly iamCallsPerEvent: readonly number[];
  readonly writesPerEvent: readonly number[];
  readonly wallMedianMs: number;
  /** Time inside the SDK's HTTP handler per event (latency + loopback + the emulator's work). */
  readonly networkMedianMs: number;
  /** Deliberate waits (backoff, settle): timed exactly at the core level, wall - network - busy at the handler level. */
  readonly waitMedianMs: number;
  /** CPU time of this process per event (user + system; the emulator runs elsewhere): all our work, GC included. */
  readonly cpuMedianMs: number;
  readonly cpuP95Ms: number;
  /** Event-loop busy wall time per event (performance.eventLoopUtilization active). */
  readonly busyMedianMs: number;
  readonly cpuToNetwork: number;
  /** Wall time inside `iam.send` but outside HTTP (serialize, SigV4, retry strategy, XML parse). */
  readonly sdkMedianMs: number;
  /** Core level: wall - `iam.send` - sleeps = our code (pipeline, grant, planner, policy parse, stringify). */
  readonly oursMedianMs: number;
  readonly oursP95Ms: number;
  /** Core level: wall time inside the driver's `plan` (part of `ours`). */
  readonly planMedianMs: number;
  /** wall - IAM calls x latency: counts loopback, the emulator and waits as ours. */
  readonly ownUpperMedianMs: number;
  readonly ownUpperP95Ms: number;
}

interface Sample {
  wall: number;
  cpu: number;
  active: number;
  sleep: number;
  http: number;
  send: number;
  plan: number;
  calls: number;
  writes: number;
}

export function stats(samples: readonly Sample[], latencyMs: number): CostStats {
  const pick = (f: (s: Sample) => number) => samples.map(f);
  const cpu = pick((s) => s.cpu);
  const ours = pick((s) => s.wall - s.send - s.sleep);
  const upper = pick((s) => s.wall - s.calls * latencyMs);
  return {
    events: samples.length,
    iamCallsPerEvent: [...new Set(pick((s) => s.calls))].sort((a, b) => a - b),
    writesPerEvent: [...new Set(pick((s) => s.writes))].sort((a, b) => a - b),
    wallMedianMs: median(pick((s) => s.wall)),
    networkMedianMs: median(pick((s) => s.http)),
    waitMedianMs: median(pick((s) => (Number.isNaN(s.sleep) ? Math.max(0, s.wall - s.http - s.active) : s.sleep))),
    cpuMedianMs: median(cpu),
    cpuP95Ms: p95(cpu),
    busyMedianMs: median(pick((s) => s.active)),
    cpuToNetwork: median(cpu) / median(pick((s) => s.http)),
    sdkMedianMs: median(pick((s) => s.send - s.http)),
    oursMedianMs: median(ours),
    oursP95Ms: p95(ours),
    planMedianMs: median(pick((s) => s.plan)),
    ownUpperMedianMs: median(upper),
    ownUpperP95Ms: p95(upper),
  };
}

/** Event k grants list[2k] on role `<prefix>k`, which already trusts list[2k + 1] (granted by hand earlier). */
async function seedRoles(aws: RemoteEmulator, prefix: string, total: number) {
  const list = fx.benchDeployments(2 * total, { roleArn: (i) => fx.roleArn(`${prefix}${Math.floor(i / 2)}`) });
  const events = [];
  for (let k = 0; k < total; k++) {
    const event = list[2 * k];
    const neighbor = list[2 * k + 1];
    if (event === undefined || neighbor === undefined) throw new Error('fixture too short');
    const role = `${prefix}${k}`;
    const document = manualEdit(
      structuredClone(fx.EC2_TRUST),
      fx.manualSubjects(neighbor.namespace, neighbor.airflowVersion),
    );
    await aws.putRole(role, document);
    events.push({ event, role, before: await aws.getTrustPolicyText(role) });
  }
  return events;
}

/**
 * Processes one event and answers its statuses, or undefined when the entry point reports none (an SQS batch answers
 * only with the messages to retry): then the IAM calls the emulator saw decide between granted and unchanged.
 */
export type Process = (raw: Record<string, unknown>, id: string) => Promise<string[] | undefined>;

export interface Cursor {
  index: number;
}

export async function sampleLevel(
  aws: RemoteEmulator,
  cursor: Cursor,
  meter: Meter,
  run: Process,
  prefix: string,
  total: number,
  warmup: number,
) {
  const events = await seedRoles(aws, prefix, total);
  cursor.index += (await aws.callsSince(cursor.index)).length;
  const samples = { changed: [] as Sample[], converged: [] as Sample[] };
  for (const round of ['changed', 'converged'] as const) {
    for (const [k, { event, role }] of events.entries()) {
      const before = { ...meter };
      const elu = performance.eventLoopUtilization();
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const reported = await run(event.raw, `msg_${prefix}${round}_${k}`);
      const wall = performance.now() - started;
      const cpuUsed = process.cpuUsage(cpuBefore);
      const active = performance.eventLoopUtilization(elu).active;
      const seen = await aws.callsSince(cursor.index);
      cursor.index += seen.length;
      const calls = seen.filter((c) => c.service === 'iam');
      const writes = calls.filter((c) => c.action === 'UpdateAssumeRolePolicy').length;
      const statuses = reported ?? [await inferredStatus(aws, role, event, calls.length, writes)];
      const expected = round === 'changed' ? 'granted' : 'unchanged';
      if (statuses.length !== 1 || statuses[0] !== expected)
        throw new Error(`event ${k} (${round}): ${statuses.join(',')}`);
      const [http, send, plan] = [meter.http - before.http, meter.send - before.send, meter.plan - before.plan];
      const [cpu, sleep] = [(cpuUsed.user + cpuUsed.system) / 1000, meter.sleep - before.sleep];
      if (k >= warmup) samples[round].push({ wall, cpu, active, sleep, http, send, plan, calls: calls.length, writes });
    }
  }
  return { events, samples };
}

/** Granted when it wrote and the role now trusts every subject; unchanged when it only read. */
async function inferredStatus(
  aws: RemoteEmulator,
  role: string,
  event: fx.BenchDeployment,
  calls: number,
  writes: number,
): Promise<string> {
  if (writes === 0) return calls > 0 ? 'unchanged' : 'untouched';
  const text = await aws.getTrustPolicyText(role);
  const all = fx.manualSubjects(event.namespace, event.airflowVersion).every((s) => text.includes(`"${s}"`));
  return all ? 'granted' : 'written-but-missing';
}
