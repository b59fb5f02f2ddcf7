/** Renders the benchmark results as text tables and as the small JSON committed in bench/results/. */
import type { BurstRow } from './burst.ts';
import type { ColdStartResult } from './cold-start.ts';
import { ASSUMED_IAM_MS, type ComparisonResult } from './compare-manual.ts';
import type { CostStats, EventCostResult } from './event-costs.ts';
import type { MachineInfo } from './machine.ts';
import { formatBytes, formatMs, formatRatio, renderTable, round } from './stats.ts';
import type { SweepScaleResult } from './sweep-scale.ts';

export interface BenchResults {
  machine: MachineInfo;
  options: Record<string, unknown>;
  comparison?: ComparisonResult;
  eventCosts?: EventCostResult;
  coldStart?: ColdStartResult;
  burst?: BurstRow[];
  sweepScale?: SweepScaleResult;
  totalSeconds?: number;
  loadAverage1mAtEnd?: number;
}

const PATH_LABEL = {
  'aws-cli': 'AWS CLI: get-role + edit + update-assume-role-policy',
  'per-event': 'reconciler via SQS, batch size 1 (1 event/invocation)',
  'sqs-batch': 'reconciler via SQS, batches of 10',
} as const;

export function comparisonTable(result: ComparisonResult): string {
  const rows = result.rows.map((r) => [
    PATH_LABEL[r.path],
    String(r.deployments),
    r.status === 'skipped' ? 'skipped' : formatMs(r.ms),
    r.path === 'aws-cli' ? (r.status === 'skipped' ? 'n/a' : '1x') : formatRatio(r.speedup),
    r.status === 'skipped' ? `(${r.iamCalls})` : String(r.iamCalls),
    r.status === 'skipped' ? `(${r.writes})` : String(r.writes),
    r.status === 'skipped' ? '-' : `${r.granted}/${r.deployments}`,
    r.status === 'skipped' ? 'n/a' : formatMs(r.estimatedAtIamLatencyMs),
  ]);
  const header = ['path (one shared role)', 'Deployments', 'wall', 'faster', 'IAM calls', 'writes', 'granted'];
  return renderTable([...header, `est. +${ASSUMED_IAM_MS} ms/call`], rows);
}

function costRow(label: string, s: CostStats): string[] {
  const coreOnly = (ms: number) => (Number.isNaN(ms) ? '-' : formatMs(ms));
  return [
    label,
    s.iamCallsPerEvent.join('/'),
    s.writesPerEvent.join('/'),
    formatMs(s.wallMedianMs),
    formatMs(s.networkMedianMs),
    formatMs(s.waitMedianMs),
    `${formatMs(s.cpuMedianMs)} / ${formatMs(s.cpuP95Ms)}`,
    formatMs(s.busyMedianMs),
    `${(s.cpuToNetwork * 100).toFixed(0)}%`,
    formatMs(s.sdkMedianMs),
    Number.isNaN(s.oursMedianMs) ? '-' : `${formatMs(s.oursMedianMs)} / ${formatMs(s.oursP95Ms)}`,
    coreOnly(s.planMedianMs),
  ];
}

export function eventCostTable(result: EventCostResult): string {
  const header = ['level: event', 'IAM calls', 'writes', 'wall', 'network', 'waits', 'own CPU med/p95', 'busy'];
  const rows = result.levels.flatMap(({ level, converged, changed }) => [
    costRow(`${level}: converged`, converged),
    costRow(`${level}: changed`, changed),
  ]);
  const table = renderTable([...header, 'CPU/net', 'SDK', 'our code med/p95', 'of it plan'], rows);
  const { pure, batch } = result;
  return [
    table,
    `pure work per changed event, no I/O (hot loop): decode+parse ${pure.parseUs.toFixed(1)} us, plan ${pure.planUs.toFixed(1)} us, stringify ${pure.stringifyUs.toFixed(1)} us`,
    `${batch.events} events on one role in one SQS batch: ${batch.reads} reads, ${batch.writes} write(s), ${batch.granted}/${batch.events} granted`,
  ].join('\n');
}

export function coldStartTable(result: ColdStartResult): string {
  const rows = [
    ["bare `node -e ''`", '-', '-', formatMs(result.bareNodeMedianMs), '-'],
    ...result.rows.map((r) => [
      r.id,
      r.zipBytes === undefined ? 'n/a' : formatBytes(r.zipBytes),
      r.bundleBytes === undefined ? 'n/a' : formatBytes(r.bundleBytes),
      formatMs(r.loadMedianMs),
      `+${formatMs(r.overBareMs)}`,
    ]),
  ];
  const label = result.mode === 'bundle' ? 'bundle (dist/)' : 'entry file via tsx (NO BUILD: fallback)';
  const table = renderTable([label, 'zip', 'loaded at start', `load median of ${result.runs}`, 'over bare node'], rows);
  const first = result.firstEvent;
  if (first === undefined) return table;
  const loads = new Map(result.rows.map((r) => [r.id, r.loadMedianMs]));
  const firstRows = [
    ["bare `node -e ''`", '-', formatMs(first.bareNodeMedianMs), '-', '-', '-', '-', '-', '-'],
    ...first.rows.map((r) => {
      const load = loads.get(r.id);
      return [
        r.id,
        r.event,
        formatMs(r.medianMs),
        `+${formatMs(r.overBareMs)}`,
        load === undefined ? '-' : `+${formatMs(r.medianMs - load)}`,
        formatMs(r.initMs),
        `${formatMs(r.invokeMs)} (CPU ${formatMs(r.invokeCpuMs)})`,
        `${formatMs(r.modeledMs)} at ${r.memoryMb} MB`,
        r.throttled.length === 0
          ? 'no cgroup to write'
          : r.throttled.map((t) => `${formatMs(t.invokeMs)} (${t.periodMs} ms)`).join(', '),
      ];
    }),
  ];
  const firstTable = renderTable(
    [
      'first event (import + one invocation)',
      'event',
      `median of ${first.runs}`,
      'over bare node',
      'over module load',
      'init phase',
      'invocation',
      'Lambda model',
      'invocation in its CPU share (CFS period)',
    ],
    firstRows,
  );
  return `${table}\n\n${firstTable}`;
}

const BURST_LABEL = {
  stack: 'webhook URL -> EventBridge -> SQS -> reconciler (batches <= 10)',
  'one-batch': 'processBatch, all at once (SQS batch / sync)',
  lanes: 'concurrent 1-event batches, shared TargetLanes',
} as const;

export function burstTable(rows: readonly BurstRow[]): string {
  return renderTable(
    [
      'path',
      'Deployments',
      'roles',
      'converged',
      'accepted',
      'reads',
      'writes',
      'PutEvents',
      'batches',
      'lost',
      'failed',
    ],
    rows.map((r) => [
      BURST_LABEL[r.path],
      String(r.deployments),
      String(r.roles),
      formatMs(r.convergeMs),
      r.acceptedMs === undefined ? '-' : formatMs(r.acceptedMs),
      String(r.reads),
      String(r.writes),
      r.putEvents === undefined ? '-' : String(r.putEvents),
      r.invocations === undefined ? '-' : String(r.invocations),
      String(r.lost),
      String(r.failedEvents),
    ]),
  );
}

export function sweepScaleTable(result: SweepScaleResult): string {
  return renderTable(
    [
      'page size',
      'sweep',
      'Deployments',
      'targets',
      'wall',
      'Astro GETs',
      'IAM reads',
      'IAM writes',
      '429s',
      'failed',
      'peak RSS',
      'RSS at start',
    ],
    result.rows.map((r) => [
      String(r.pageSize),
      r.run,
      String(r.deployments),
      String(r.targets),
      formatMs(r.wallMs),
      String(r.astroGets),
      String(r.iamReads),
      String(r.iamWrites),
      String(r.quotaRefusals),
      String(r.failed),
      formatBytes(r.peakRssBytes),
      formatBytes(r.rssBeforeBytes),
    ]),
  );
}

/** The goals of issue 8, each with the figure that decides it. */
export function goals(results: BenchResults): string[] {
  const lines: string[] = [];
  const rows = results.comparison?.rows ?? [];
  const largest = Math.max(0, ...rows.map((r) => r.deployments));
  const cli = rows.find((r) => r.path === 'aws-cli' && r.deployments === largest);
  for (const mode of ['sqs-batch', 'per-event'] as const) {
    const ours = rows.find((r) => r.path === mode && r.deployments === largest);
    if (cli === undefined || ours === undefined) continue;
    if (cli.status === 'skipped') {
      lines.push(`>=100x faster at ${largest} (${mode}): not measured, AWS CLI missing`);
      continue;
    }
    const fast = ours.speedup >= 100;
    const fewer = ours.iamCalls < cli.iamCalls;
    const missed = [fast ? undefined : 'speed', fewer ? undefined : 'calls'].filter(Boolean).join(', ');
    const verdict = missed === '' ? 'MET' : `NOT MET (${missed})`;
    const figures = `${formatRatio(ours.speedup)}, ${ours.iamCalls} vs ${cli.iamCalls} IAM calls`;
    lines.push(`>=100x faster with fewer calls at ${largest} Deployments (${mode}): ${figures} -> ${verdict}`);
  }
  const costs = results.eventCosts;
  if (costs !== undefined) {
    for (const { level, converged, changed } of costs.levels) {
      for (const [name, s] of [
        ['changed', changed],
        ['converged', converged],
      ] as const) {
        const verdict = (ms: number) => (ms < 2 ? 'MET' : 'NOT MET');
        if (level === 'core') {
          lines.push(
            `<2 ms median own time per event, our code (core, ${name}): ${formatMs(s.oursMedianMs)} -> ${verdict(s.oursMedianMs)}`,
          );
        }
        lines.push(
          `<2 ms median own CPU per event incl. SDK + HTTP client (${level}, ${name}): ${formatMs(s.cpuMedianMs)} -> ${verdict(s.cpuMedianMs)}`,
        );
      }
    }
  }
  const cold = results.coldStart;
  if (cold !== undefined && cold.mode === 'bundle') {
    const webhook = cold.rows.find((r) => r.id === 'aws/webhook');
    if (webhook?.bundleBytes !== undefined) {
      const kib = webhook.bundleBytes / 1024;
      lines.push(
        `webhook bundle (code loaded at start) <= 300 KiB: ${kib.toFixed(1)} KiB -> ${kib <= 300 ? 'MET' : 'NOT MET'}`,
      );
    }
    for (const row of cold.rows) {
      const ratio = row.loadMedianMs / cold.bareNodeMedianMs;
      lines.push(
        `module load <= 1.5x bare node (${row.id}): ${ratio.toFixed(2)}x -> ${ratio <= 1.5 ? 'MET' : 'NOT MET'}`,
      );
    }
  }
  for (const row of results.sweepScale?.rows ?? []) {
    const ok = row.quotaRefusals === 0 && row.failed === 0;
    lines.push(
      `sweep page ${row.pageSize} (${row.run}): ${row.quotaRefusals} quota refusals, ${row.failed} failed -> ${ok ? 'MET' : 'NOT MET'}`,
    );
  }
  for (const row of results.burst ?? []) {
    lines.push(
      `burst ${row.path}: ${row.lost} lost, ${row.failedEvents} failed -> ${row.lost === 0 && row.failedEvents === 0 ? 'MET' : 'NOT MET'}`,
    );
  }
  return lines;
}

/** Rounds every number to 3 decimals so the committed JSON stays small and diffs stay readable. */
export function toJson(results: BenchResults): string {
  const text = JSON.stringify(results, (_key, value: unknown) => (typeof value === 'number' ? round(value) : value), 2);
  // Arrays of plain values on one line, as the repository's formatter (biome, width 120) writes them.
  const collapsed = text.replace(
    /^( *)("[^"\n]*": )?\[\n((?:[^[\]{}\n]*\n)+?) *\]/gm,
    (whole, indent: string, key = '', body: string) => {
      const line = `${indent}${key}[${body
        .split('\n')
        .map((item) => item.trim())
        .filter(Boolean)
        .join(' ')}]`;
      return line.length <= 120 ? line : whole;
    },
  );
  return `${collapsed}\n`;
}
