/**
 * Part 5: the scale of the sweep. 5,000 Deployments over 50 Google service accounts (100 Deployments each, 600
 * members: a GCP policy holds 1,500; an AWS trust policy of 2048 characters holds about 2 Deployments, so AWS roles
 * cannot carry 100 each), listed from the Astro API emulator and reconciled by the real GCP runtime and scheduled
 * handler against the GCP IAM emulator, with emulated latency on every call. Prune is on, so each sweep lists the
 * organization twice (the second list proves nothing stale was missed). Each page size runs in a fresh process
 * (sweep-child.ts) whose peak RSS is the function's own; the emulators run here and count the calls.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AstroEmulator, startAstroEmulator } from '../local/astro-emulator/server.ts';
import { type GcpEmulator, startGcpEmulator } from '../local/gcp-emulator/server.ts';
import type { SweepChildResult } from './sweep-child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./sweep-child.ts', import.meta.url));
const ORG = 'clorg0000000000000000000';
const POOL = 'astro-gke-prod.svc.id.goog';
const ASTRO_TOKEN = 'astro-bench-token';
const GCP_TOKEN = 'ya29.bench-token';

export interface SweepScaleRow {
  readonly pageSize: number;
  readonly run: 'first' | 'converged';
  readonly deployments: number;
  readonly targets: number;
  readonly wallMs: number;
  readonly astroGets: number;
  /** Pages of the first list and of the second (prune) list, together. */
  readonly iamReads: number;
  readonly iamWrites: number;
  /** 429s the emulator's write quota (600 a minute) answered. */
  readonly quotaRefusals: number;
  readonly failed: number;
  readonly peakRssBytes: number;
  readonly rssBeforeBytes: number;
}

export interface SweepScaleResult {
  readonly latencyMs: number;
  readonly requestsPerSecond: number;
  readonly policyWritesPerMinute: number;
  readonly rows: SweepScaleRow[];
}

const serviceAccount = (t: number) => `astro-team-${String(t).padStart(2, '0')}@acme-data.iam.gserviceaccount.com`;

/** Deployment i of team i % targets: Airflow 2, six service accounts, the team's Google service account. */
function deployment(i: number, targets: number): Record<string, unknown> {
  const updatedAt = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString();
  return {
    id: `clbench${String(i).padStart(18, '0')}`,
    name: `team-${i % targets}-dep-${i}`,
    namespace: `bench-ns-${String(i).padStart(5, '0')}`,
    organizationId: ORG,
    workspaceId: `clws${String(i % targets).padStart(20, '0')}`,
    cloudProvider: 'GCP',
    region: 'us-central1',
    type: 'DEDICATED',
    clusterId: 'clcl00000000000000000000',
    airflowVersion: '2.10.3',
    astroRuntimeVersion: '12.4.0',
    status: 'HEALTHY',
    createdAt: updatedAt,
    updatedAt,
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/astro-gke-prod/locations/us-central1/clusters/c1',
    effectiveWorkloadIdentity: serviceAccount(i % targets),
    // Fields this tool ignores, so pages weigh what the API's do.
    executor: 'CELERY',
    schedulerSize: 'SMALL',
    workerQueues: [{ name: 'default', astroMachine: 'A5', minWorkerCount: 1, maxWorkerCount: 10 }],
  };
}

function config(pageSize: number, requestsPerSecond: number, policyWritesPerMinute: number): string {
  return `astro: { token: "env:ASTRO_API_TOKEN", organizationId: ${ORG}, pageSize: ${pageSize}, requestsPerSecond: ${requestsPerSecond} }
gcp:
  allowedServiceAccounts: ["*@acme-data.iam.gserviceaccount.com"]
  pools: { default: ${POOL} }
  policyWritesPerMinute: ${policyWritesPerMinute}
prune: true
`;
}

function runChild(env: Record<string, string>): Promise<SweepChildResult> {
  const child = fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let result: SweepChildResult | undefined;
    child.on('message', (message: SweepChildResult) => {
      result = message;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      result === undefined ? reject(new Error(`the sweep child exited with ${code}`)) : resolve(result),
    );
  });
}

function between<T extends { at: number }>(log: readonly T[], from: number, to: number): T[] {
  return log.filter((entry) => entry.at >= from && entry.at <= to);
}

async function measure(
  astro: AstroEmulator,
  gcp: GcpEmulator,
  options: {
    pageSize: number;
    deployments: number;
    targets: number;
    requestsPerSecond: number;
    writesPerMinute: number;
  },
): Promise<SweepScaleRow[]> {
  // Fresh service accounts, each holding the members of a Deployment deleted since the last sweep: the first run
  // grants everything and prunes those (so it lists twice); the converged run finds nothing to do (one list).
  for (let t = 0; t < options.targets; t++) {
    const gone = `bench-gone-${String(t).padStart(2, '0')}`;
    const members = [`serviceAccount:${POOL}[${gone}/${gone}-worker-serviceaccount]`];
    gcp.putServiceAccount(serviceAccount(t), { bindings: [{ role: 'roles/iam.workloadIdentityUser', members }] });
  }
  gcp.resetCalls();
  const result = await runChild({
    ASTRO_IDENTITY_SYNC_CONFIG: config(options.pageSize, options.requestsPerSecond, options.writesPerMinute),
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: astro.url,
    ASTRO_IDENTITY_SYNC_GCP_ROOT_URL: gcp.url,
    ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN: GCP_TOKEN,
    ASTRO_API_TOKEN: ASTRO_TOKEN,
    LOG_LEVEL: 'SILENT',
  });
  return result.runs.map((run, i) => {
    const calls = between(gcp.calls, run.startedAt, run.endedAt);
    return {
      pageSize: options.pageSize,
      run: i === 0 ? 'first' : 'converged',
      deployments: run.deployments,
      targets: options.targets,
      wallMs: run.ms,
      astroGets: between(astro.requests, run.startedAt, run.endedAt).length,
      iamReads: calls.filter((c) => c.method === 'getIamPolicy').length,
      iamWrites: calls.filter((c) => c.method === 'setIamPolicy' && c.status === 200).length,
      quotaRefusals: calls.filter((c) => c.status === 429).length,
      failed: run.failed,
      peakRssBytes: result.peakRssBytes,
      rssBeforeBytes: result.rssBeforeBytes,
    };
  });
}

export async function measureSweepScale(options: {
  deployments: number;
  targets: number;
  latencyMs: number;
  pageSizes: readonly number[];
  /** The Astro client's pace; default 20 (the function's default). */
  requestsPerSecond?: number;
  /** `gcp.policyWritesPerMinute`; default 500 (the function's default). */
  writesPerMinute?: number;
  log: (line: string) => void;
}): Promise<SweepScaleResult> {
  const requestsPerSecond = options.requestsPerSecond ?? 20;
  const writesPerMinute = options.writesPerMinute ?? 500;
  const [astro, gcp] = await Promise.all([
    startAstroEmulator({ token: ASTRO_TOKEN, organizationId: ORG }),
    startGcpEmulator({ token: GCP_TOKEN, pools: [POOL] }),
  ]);
  try {
    for (let i = 0; i < options.deployments; i++) astro.upsert(deployment(i, options.targets));
    astro.setFaults({ latencyMs: options.latencyMs });
    gcp.setFaults({ latencyMs: options.latencyMs, writeQuotaPerMinute: 600 });
    const rows: SweepScaleRow[] = [];
    for (const pageSize of options.pageSizes) {
      options.log(`  page size ${pageSize}: two sweeps of ${options.deployments} Deployments in a fresh process`);
      rows.push(...(await measure(astro, gcp, { ...options, pageSize, requestsPerSecond, writesPerMinute })));
    }
    return { latencyMs: options.latencyMs, requestsPerSecond, policyWritesPerMinute: writesPerMinute, rows };
  } finally {
    await Promise.all([astro.close(), gcp.close()]);
  }
}
