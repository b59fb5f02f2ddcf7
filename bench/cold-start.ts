/**
 * Part 3: cold start. Bundle and zip size per deployable from dist/build-manifest.json (running `npm run build`'s
 * script when dist/ is missing or older than its sources), and module load time: a fresh `node` importing the bundle,
 * N times, against a bare `node -e ''` in the same run, interleaved, medians. Without a build, the fallback times
 * `node --import tsx` importing the TypeScript entry files, and says so.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FirstEventResult, measureFirstEvent } from './first-event.ts';
import { median } from './stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MANIFEST = join(ROOT, 'dist', 'build-manifest.json');

interface ManifestEntry {
  readonly id: string;
  readonly file: string;
  readonly bytes: number;
  readonly bundle: { readonly file: string; readonly bytes: number };
  readonly sources?: readonly string[];
}

export interface ColdStartRow {
  readonly id: string;
  readonly entry: string;
  readonly zipBytes: number | undefined;
  readonly bundleBytes: number | undefined;
  readonly loadMedianMs: number;
  /** Load median minus the bare `node -e ''` median. */
  readonly overBareMs: number;
}

export interface ColdStartResult {
  readonly mode: 'bundle' | 'tsx-fallback';
  readonly build: 'up-to-date' | 'rebuilt' | 'failed' | 'not-attempted';
  readonly buildMessage?: string;
  readonly runs: number;
  readonly bareNodeMedianMs: number;
  readonly rows: readonly ColdStartRow[];
  /** The first event after the import (bundles only): what a cold start costs once the handler has answered. */
  readonly firstEvent?: FirstEventResult;
}

function exec(command: string, args: readonly string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  delete env.NODE_OPTIONS; // measure a plain node, whatever launched the bench
  return new Promise((resolve) => {
    execFile(
      command,
      [...args],
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

function readManifest(): Record<string, ManifestEntry> | undefined {
  if (!existsSync(MANIFEST)) return undefined;
  try {
    return (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { entries: Record<string, ManifestEntry> }).entries;
  } catch {
    return undefined;
  }
}

/** The newest source a bundle depends on (its listed sources, package.json and the build scripts) vs the manifest. */
function buildIsStale(entries: Record<string, ManifestEntry>): boolean {
  const built = statSync(MANIFEST).mtimeMs;
  const files = new Set(['package.json', 'package-lock.json', 'scripts/build.ts', 'scripts/bundle.ts']);
  for (const [entry, value] of Object.entries(entries)) {
    files.add(entry);
    for (const source of value.sources ?? []) files.add(source);
  }
  for (const file of files) {
    const path = join(ROOT, file);
    if (existsSync(path) && statSync(path).mtimeMs > built) return true;
    if (!existsSync(path) && file.endsWith('.ts') && !file.startsWith('scripts/')) return true; // a source was removed
  }
  return Object.values(entries).some((e) => !existsSync(join(ROOT, e.bundle.file)));
}

/** Wall time of one fresh node process running `args`, in ms (spawn to exit). */
async function spawnMs(args: readonly string[]): Promise<number> {
  const started = performance.now();
  const result = await exec(process.execPath, args, 60_000);
  const ms = performance.now() - started;
  if (result.code !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.output.slice(0, 500)}`);
  return ms;
}

function importArgs(file: string, viaTsx: boolean): string[] {
  const url = pathToFileURL(join(ROOT, file)).href;
  const code = `await import(${JSON.stringify(url)})`;
  return viaTsx ? ['--import', 'tsx', '--input-type=module', '-e', code] : ['--input-type=module', '-e', code];
}

export async function measureColdStart(options: {
  runs: number;
  allowBuild?: boolean;
  /** Only these artifact ids (default: all). */
  ids?: readonly string[];
  log?: (line: string) => void;
}): Promise<ColdStartResult> {
  const log = options.log ?? (() => undefined);
  let entries = readManifest();
  let build: ColdStartResult['build'] = entries === undefined ? 'not-attempted' : 'up-to-date';
  let buildMessage: string | undefined;
  if (entries === undefined || buildIsStale(entries)) {
    if (options.allowBuild === false) {
      build = 'not-attempted';
      entries = undefined;
    } else {
      log(`  dist/ is ${entries === undefined ? 'missing' : 'older than its sources'}: running scripts/build.ts`);
      const tsxCli = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
      const result = await exec(process.execPath, [tsxCli, join(ROOT, 'scripts', 'build.ts')], 300_000);
      entries = result.code === 0 ? readManifest() : undefined;
      build = entries === undefined ? 'failed' : 'rebuilt';
      if (entries === undefined) buildMessage = result.output.trim().split('\n').slice(-3).join(' | ');
    }
  }
  const targets: Array<{ id: string; entry: string; file: string; zip?: number; bundle?: number }> =
    entries === undefined
      ? [
          { id: 'aws/webhook', entry: 'functions/aws/webhook.ts', file: 'functions/aws/webhook.ts' },
          { id: 'aws/reconciler', entry: 'functions/aws/reconciler.ts', file: 'functions/aws/reconciler.ts' },
          { id: 'aws/manual', entry: 'functions/aws/manual.ts', file: 'functions/aws/manual.ts' },
          { id: 'aws/scheduled', entry: 'functions/aws/scheduled.ts', file: 'functions/aws/scheduled.ts' },
          { id: 'gcp/function-source', entry: 'functions/gcp/index.ts', file: 'functions/gcp/index.ts' },
          { id: 'azure/function-app', entry: 'functions/azure/index.ts', file: 'functions/azure/index.ts' },
        ].filter((t) => existsSync(join(ROOT, t.file)))
      : Object.entries(entries).map(([entry, e]) => ({
          id: e.id,
          entry,
          file: e.bundle.file,
          zip: e.bytes,
          bundle: e.bundle.bytes,
        }));
  if (options.ids !== undefined) {
    const wanted = new Set(options.ids);
    targets.splice(0, targets.length, ...targets.filter((t) => wanted.has(t.id)));
  }
  const viaTsx = entries === undefined;
  const bare: number[] = [];
  const loads = new Map<string, number[]>(targets.map((t) => [t.id, []]));
  log(
    `  module load: ${targets.length} ${viaTsx ? 'entry files via tsx (no build)' : 'bundles'} x ${options.runs} runs`,
  );
  await spawnMs(['-e', '']); // first spawn warms the page cache for node itself
  for (let run = 0; run < options.runs; run++) {
    // Interleaved, so a burst of load on the machine hits the baseline and the bundles alike.
    bare.push(await spawnMs(['-e', '']));
    for (const target of targets) loads.get(target.id)?.push(await spawnMs(importArgs(target.file, viaTsx)));
  }
  const bareMedian = median(bare);
  let firstEvent: FirstEventResult | undefined;
  if (!viaTsx) {
    const bundles = new Map(targets.map((t) => [t.id, t.file]));
    log(`  first event: aws/webhook and aws/reconciler x ${options.runs} runs`);
    firstEvent = await measureFirstEvent({ runs: options.runs, root: ROOT, bundles });
  }
  return {
    mode: viaTsx ? 'tsx-fallback' : 'bundle',
    build,
    ...(buildMessage === undefined ? {} : { buildMessage }),
    runs: options.runs,
    bareNodeMedianMs: bareMedian,
    rows: targets.map((t) => {
      const load = median(loads.get(t.id) ?? []);
      return {
        id: t.id,
        entry: t.entry,
        zipBytes: t.zip,
        bundleBytes: t.bundle,
        loadMedianMs: load,
        overBareMs: load - bareMedian,
      };
    }),
    ...(firstEvent === undefined ? {} : { firstEvent }),
  };
}
