import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The storage emulator's well-known development account (the same in every Azurite and in the legacy emulator). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** How long to wait for "successfully listens" before giving up (default 20 s; a cold start takes about 1 s). */
  readonly startTimeoutMs?: number;
  /** Cap of the in-memory extent store, in MB; Azurite's default is half the machine's memory. */
  readonly extentMemoryLimitMb?: number;
  /** Port for the queue service (0: any free port). */
  readonly port?: number;
}

export interface Azurite {
  /** `http://127.0.0.1:<port>/devstoreaccount1`: the queue service URL of the development account. */
  readonly queueUrl: string;
  /** A storage connection string as an `AzureWebJobsStorage` app setting holds it. */
  readonly connectionString: string;
  readonly pid: number;
  /** Milliseconds from spawn to "successfully listens". */
  readonly startMs: number;
  close(): Promise<void>;
}

/** Azurite did not come up; `pid` is the process that was started (and has been stopped again). */
export class AzuriteStartError extends Error {
  constructor(
    message: string,
    readonly pid: number | undefined,
  ) {
    super(message);
    this.name = 'AzuriteStartError';
  }
}

const require = createRequire(import.meta.url);

/** Azurite's queue entry script, from node_modules (no npx: CI has no network beyond the registry, npx may fetch). */
export function azuriteQueueScript(): string {
  return join(dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'queue', 'main.js');
}

// Azurite ignores a closed IPC channel; this preload makes the child exit when the parent dies for any reason,
// SIGKILL included, where no exit handler of the parent runs. The channel's 'disconnect' is the parent going away.
const EXIT_WITH_PARENT = 'data:text/javascript,process.on("disconnect",()=>process.exit(0))';

const LISTENING = /Azurite Queue service successfully listens on (http:\/\/[^\s]+)/;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous and last-chance: a test runner's worker exiting without close() must not leave a port held.
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/**
 * Starts Azurite's queue service (the open-source Azure Storage emulator) as a child process on a free loopback port,
 * in memory. Exits with the parent; `close()` stops it and waits for the process to be gone.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  // Azurite refuses --location together with --inMemoryPersistence, and its location defaults to the working
  // directory, which it creates files in when telemetry is on: a fresh temp directory as cwd keeps the checkout clean.
  const workspace = await mkdtemp(join(tmpdir(), 'azurite-'));
  const args = [
    '--import',
    EXIT_WITH_PARENT,
    azuriteQueueScript(),
    '--queueHost',
    '127.0.0.1',
    '--queuePort',
    String(options.port ?? 0),
    '--inMemoryPersistence',
    '--extentMemoryLimit',
    String(options.extentMemoryLimitMb ?? 64),
    '--silent',
    '--skipApiVersionCheck',
    '--loose',
    // Telemetry is on by default and sends to Application Insights: no network in CI, and no data leaves a laptop.
    '--disableTelemetry',
  ];
  // A loader from the parent's NODE_OPTIONS (tsx, a debugger) would only slow Azurite's start down.
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  killOnExit(child);
  const output: string[] = [];
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Azurite did not start within ${timeoutMs} ms.${tail(output)}`)),
        timeoutMs,
      );
      const onData = (chunk: Buffer) => {
        output.push(chunk.toString('utf8'));
        const match = LISTENING.exec(output.join(''));
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`Azurite could not be spawned: ${error.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`Azurite exited before listening (code ${code}, signal ${signal}).${tail(output)}`));
      });
    });
  } catch (error) {
    await stop(child, exited);
    await rm(workspace, { recursive: true, force: true });
    throw new AzuriteStartError(error instanceof Error ? error.message : String(error), child.pid);
  }
  const startMs = Math.round(performance.now() - started);
  // Keep draining its output (a full pipe would block it) without holding the parent's event loop open.
  child.stdout?.removeAllListeners('data');
  child.stdout?.resume();
  child.stderr?.resume();
  unref(child);

  const queueUrl = `${url.replace(/\/$/, '')}/${AZURITE_ACCOUNT}`;
  let closing: Promise<void> | undefined;
  return {
    queueUrl,
    connectionString: [
      'DefaultEndpointsProtocol=http',
      `AccountName=${AZURITE_ACCOUNT}`,
      `AccountKey=${AZURITE_ACCOUNT_KEY}`,
      `QueueEndpoint=${queueUrl}`,
      '',
    ].join(';'),
    pid: child.pid ?? -1,
    startMs,
    close() {
      closing ??= (async () => {
        await stop(child, exited);
        await rm(workspace, { recursive: true, force: true });
      })();
      return closing;
    },
  };
}

function tail(output: readonly string[]): string {
  const text = output.join('').trim();
  return text === '' ? '' : ` Its output:\n${text.slice(-2000)}`;
}

function unref(child: ChildProcess): void {
  child.unref();
  child.channel?.unref();
  for (const stream of [child.stdout, child.stderr]) {
    // The pipes are net.Sockets at runtime; the type only promises a Readable.
    const socket = stream as (typeof stream & { unref?: () => void }) | null;
    socket?.unref?.();
  }
}

/**
 * SIGKILL: Azurite's own SIGTERM handler waits for every keep-alive connection of the clients to end (seconds), and an
 * in-memory emulator has nothing to flush.
 */
async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // An unref'd child's exit is not waited for: without this the loop can drain before 'exit' arrives.
  child.ref();
  child.kill('SIGKILL');
  await exited;
}
