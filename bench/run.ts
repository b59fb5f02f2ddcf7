/**
 * `npm run bench`: the benchmark of issue 8. Prints a table per part and writes bench/results/latest.json with the
 * machine it ran on. Everything runs on loopback against the local emulators.
 *
 *   npm run bench                      all five parts (about 3-4 minutes, most of it the AWS CLI's start-up)
 *   npm run bench -- --quick           smaller sizes and fewer runs; not saved unless --out is given
 *   npm run bench -- --parts 2,5       only some parts; not saved unless --out is given
 *   npm run bench -- --skip-cli        the AWS CLI rows are reported as skipped
 *   npm run bench -- --out FILE        where to write the JSON
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureBurst } from './burst.ts';
import { measureColdStart } from './cold-start.ts';
import { compareWithManual } from './compare-manual.ts';
import { measureEventCosts } from './event-costs.ts';
import { describeMachine } from './machine.ts';
import { type CliInfo, detectAwsCli, INSTALL_HINT } from './manual-cli.ts';
import {
  type BenchResults,
  burstTable,
  coldStartTable,
  comparisonTable,
  eventCostTable,
  goals,
  sweepScaleTable,
  toJson,
} from './report.ts';
import { measureSweepScale } from './sweep-scale.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_OUT = fileURLToPath(new URL('./results/latest.json', import.meta.url));

export interface BenchSettings {
  readonly parts: ReadonlySet<number>;
  readonly skipCli: boolean;
  readonly quick: boolean;
  readonly sizes: readonly number[];
  readonly runs: number;
  readonly costEvents: number;
  readonly latencyMs: number;
  readonly loadRuns: number;
  readonly burstDeployments: number;
  readonly burstRoles: number;
  readonly sweepDeployments: number;
  readonly sweepTargets: number;
  readonly sweepLatencyMs: number;
  readonly out: string | undefined;
}

export function settingsFrom(argv: readonly string[]): BenchSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      'skip-cli': { type: 'boolean', default: false },
      parts: { type: 'string', default: '1,2,3,4,5' },
      out: { type: 'string' },
    },
    strict: true,
  });
  const parts = new Set(
    values.parts
      .split(',')
      .map((p) => Number(p.trim()))
      .filter((p) => p >= 1 && p <= 5),
  );
  const quick = values.quick;
  const partial = parts.size < 5 || quick;
  return {
    parts,
    skipCli: values['skip-cli'],
    quick,
    sizes: quick ? [1, 10] : [1, 10, 50],
    runs: quick ? 3 : 5,
    costEvents: quick ? 10 : 30,
    latencyMs: 20,
    loadRuns: quick ? 5 : 10,
    burstDeployments: 200,
    burstRoles: 10,
    sweepDeployments: quick ? 1000 : 5000,
    sweepTargets: quick ? 10 : 50,
    sweepLatencyMs: 30,
    out: values.out ?? (partial ? undefined : DEFAULT_OUT),
  };
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

export async function runBench(settings: BenchSettings): Promise<BenchResults> {
  const started = performance.now();
  let cli: CliInfo = { available: false };
  if (settings.parts.has(1) && !settings.skipCli) {
    cli = await detectAwsCli();
    if (!cli.available) progress(`AWS CLI not found: its rows are reported as skipped; ${INSTALL_HINT}`);
  }
  const results: BenchResults = {
    machine: await describeMachine(cli.version),
    options: { ...settings, parts: [...settings.parts], out: settings.out && relative(ROOT, settings.out) },
  };
  if (settings.parts.has(1)) {
    progress('[1/5] manual AWS CLI path vs reconciler');
    results.comparison = await compareWithManual({ sizes: settings.sizes, cli, runs: settings.runs, log: progress });
  }
  if (settings.parts.has(2)) {
    progress(`[2/5] API calls and own time per event (emulated latency ${settings.latencyMs} ms per call)`);
    results.eventCosts = await measureEventCosts({ events: settings.costEvents, latencyMs: settings.latencyMs });
  }
  if (settings.parts.has(3)) {
    progress('[3/5] cold start: bundle sizes and module load time');
    results.coldStart = await measureColdStart({ runs: settings.loadRuns, log: progress });
  }
  if (settings.parts.has(4)) {
    progress(`[4/5] burst: ${settings.burstDeployments} Deployments across ${settings.burstRoles} roles`);
    results.burst = await measureBurst({ deployments: settings.burstDeployments, roles: settings.burstRoles });
  }
  if (settings.parts.has(5)) {
    progress(
      `[5/5] sweep: ${settings.sweepDeployments} Deployments over ${settings.sweepTargets} GCP service accounts`,
    );
    results.sweepScale = await measureSweepScale({
      deployments: settings.sweepDeployments,
      targets: settings.sweepTargets,
      latencyMs: settings.sweepLatencyMs,
      pageSizes: [1000, 100],
      log: progress,
    });
  }
  results.totalSeconds = (performance.now() - started) / 1000;
  results.loadAverage1mAtEnd = Math.round((loadavg()[0] ?? 0) * 100) / 100;
  return results;
}

export function printResults(results: BenchResults): void {
  const m = results.machine;
  console.log(`\nastro-identity-sync benchmark (issue 8), ${m.date}`);
  console.log(
    `machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.os}, load ${m.loadAverage1m} at start`,
  );
  if (m.awsCli !== undefined) console.log(`AWS CLI: ${m.awsCli}`);
  if (results.comparison !== undefined) {
    console.log(
      `\n1. Manual AWS CLI path vs the reconciler (same emulator, latency 0, quota ${results.comparison.quota})`,
    );
    console.log(comparisonTable(results.comparison));
    const skipped = results.comparison.rows.find((r) => r.status === 'skipped');
    if (skipped?.note !== undefined) console.log(`AWS CLI rows skipped: ${skipped.note}`);
  }
  if (results.eventCosts !== undefined) {
    const c = results.eventCosts;
    console.log(
      `\n2. Per event at the physical limit (emulated IAM latency ${c.latencyMs} ms/call, emulator in a child process)`,
    );
    console.log(eventCostTable(c));
  }
  if (results.coldStart !== undefined) {
    const c = results.coldStart;
    const build = c.build === 'failed' ? `build failed: ${c.buildMessage ?? ''}` : `build ${c.build}`;
    console.log(`\n3. Cold start (${build}; fresh node process per run, interleaved with the baseline)`);
    console.log(coldStartTable(c));
  }
  if (results.burst !== undefined) {
    console.log('\n4. Burst (namespace wildcard on DEDICATED clusters, default 2048 quota, latency 0)');
    console.log(burstTable(results.burst));
  }
  if (results.sweepScale !== undefined) {
    const s = results.sweepScale;
    console.log(
      `\n5. Sweep scale (GCP scheduled handler, prune on, emulated latency ${s.latencyMs} ms/call, Astro client paced at ${s.requestsPerSecond} requests/s, policy writes at ${s.policyWritesPerMinute}/min, emulator write quota 600/min)`,
    );
    console.log(sweepScaleTable(s));
  }
  console.log('\nGoals:');
  for (const line of goals(results)) console.log(`  ${line}`);
  console.log(
    `\ntotal ${results.totalSeconds?.toFixed(1) ?? '?'} s; load ${results.loadAverage1mAtEnd ?? '?'} at the end`,
  );
}

async function main(): Promise<number> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const settings = settingsFrom(process.argv.slice(2));
  const results = await runBench(settings);
  printResults(results);
  if (settings.out !== undefined) {
    await mkdir(dirname(settings.out), { recursive: true });
    await writeFile(settings.out, toJson(results));
    console.log(`wrote ${relative(ROOT, settings.out)}`);
  } else {
    console.log('not saved (partial or --quick run); pass --out FILE to save');
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
