/**
 * Part 1: the manual AWS CLI path versus our reconciler, same emulator, same machine, one shared role per run.
 * The CLI runs once over the largest size with checkpoints (the first 1 and 10 Deployments of that sequential run are
 * exactly the 1- and 10-Deployment runs); our paths run each size on a fresh role, several times, median reported.
 */
import { type AwsEmulator, startAwsEmulator } from '../local/aws-emulator/server.ts';
import {
  BENCH_ISSUER,
  BENCH_SEED,
  benchConfig,
  benchDeployments,
  EC2_TRUST,
  LARGE_QUOTA,
  roleArn,
} from './fixtures.ts';
import { type CliInfo, INSTALL_HINT, runManualCli } from './manual-cli.ts';
import { type FeedMode, runReconciler } from './reconciler-path.ts';
import { median } from './stats.ts';

/** Assumed real IAM round trip for the "est. at real latency" column: every call on these paths is sequential. */
export const ASSUMED_IAM_MS = 50;

export interface ComparisonRow {
  readonly path: 'aws-cli' | FeedMode;
  readonly deployments: number;
  /** 'skipped' when the AWS CLI is not installed. */
  readonly status: 'measured' | 'skipped';
  readonly ms: number;
  readonly runs: number;
  readonly iamCalls: number;
  readonly writes: number;
  readonly granted: number;
  /** CLI wall time / this row's wall time (CLI rows: 1). */
  readonly speedup: number;
  /** ms + iamCalls x ASSUMED_IAM_MS. */
  readonly estimatedAtIamLatencyMs: number;
  readonly note?: string;
}

export interface ComparisonResult {
  readonly sizes: readonly number[];
  readonly role: string;
  readonly quota: number;
  readonly cli: CliInfo;
  readonly rows: readonly ComparisonRow[];
}

async function measureOurs(
  aws: AwsEmulator,
  size: number,
  mode: FeedMode,
  runs: number,
): Promise<{ ms: number; iamCalls: number; writes: number; granted: number }> {
  const samples: Array<{ ms: number; iamCalls: number; writes: number; granted: number }> = [];
  for (let run = 0; run < runs; run++) {
    const roleName = `astro-ours-${mode}-${size}-${run}`;
    aws.putRole(roleName, EC2_TRUST);
    const deployments = benchDeployments(size, { roleArn: () => roleArn(roleName), seed: BENCH_SEED });
    samples.push(
      await runReconciler({ aws, config: benchConfig({ maxSize: LARGE_QUOTA }), roleName, deployments, mode }),
    );
  }
  const first = samples[0];
  if (first === undefined) throw new Error('no runs');
  // Call counts are identical across runs (deterministic); time is the median.
  return { ...first, ms: median(samples.map((s) => s.ms)) };
}

export async function compareWithManual(options: {
  sizes: readonly number[];
  cli: CliInfo;
  runs: number;
  log?: (line: string) => void;
}): Promise<ComparisonResult> {
  const log = options.log ?? (() => undefined);
  const aws = await startAwsEmulator({ trustPolicyQuota: LARGE_QUOTA, oidcProviders: [BENCH_ISSUER] });
  const largest = Math.max(...options.sizes);
  const cliRole = 'astro-manual-shared';
  const rows: ComparisonRow[] = [];
  try {
    // Warm-up (not reported): loads the SDK's lazily imported modules once, as a warm process would have them.
    await measureOurs(aws, 2, 'per-event', 1);
    await measureOurs(aws, 2, 'sqs-batch', 1);

    const cliBySize = new Map<number, number>();
    if (options.cli.available) {
      log(`  AWS CLI: ${largest} Deployments, 2 calls each, sequential (${options.cli.version ?? ''})`);
      aws.putRole(cliRole, EC2_TRUST);
      const deployments = benchDeployments(largest, { roleArn: () => roleArn(cliRole), seed: BENCH_SEED });
      const manual = await runManualCli({
        cli: options.cli,
        aws,
        roleName: cliRole,
        deployments,
        checkpoints: options.sizes,
      });
      for (const point of manual.checkpoints) {
        cliBySize.set(point.deployments, point.ms);
        rows.push({
          path: 'aws-cli',
          deployments: point.deployments,
          status: 'measured',
          ms: point.ms,
          runs: 1,
          iamCalls: point.iamCalls,
          writes: point.iamCalls / 2,
          granted: manual.granted.slice(0, point.deployments).filter(Boolean).length,
          speedup: 1,
          estimatedAtIamLatencyMs: point.ms + point.iamCalls * ASSUMED_IAM_MS,
        });
      }
    } else {
      for (const size of options.sizes) {
        rows.push({
          path: 'aws-cli',
          deployments: size,
          status: 'skipped',
          ms: Number.NaN,
          runs: 0,
          iamCalls: 2 * size,
          writes: size,
          granted: 0,
          speedup: Number.NaN,
          estimatedAtIamLatencyMs: Number.NaN,
          note: INSTALL_HINT,
        });
      }
    }

    for (const mode of ['per-event', 'sqs-batch'] as const) {
      for (const size of options.sizes) {
        // The largest size is the slowest and the least noisy: fewer runs keep the bench within its time budget.
        const runs = size >= 50 ? Math.min(options.runs, 3) : options.runs;
        log(`  reconciler (${mode}): ${size} Deployment(s), ${runs} run(s)`);
        const ours = await measureOurs(aws, size, mode, runs);
        const cliMs = cliBySize.get(size);
        rows.push({
          path: mode,
          deployments: size,
          status: 'measured',
          ms: ours.ms,
          runs,
          iamCalls: ours.iamCalls,
          writes: ours.writes,
          granted: ours.granted,
          speedup: cliMs === undefined ? Number.NaN : cliMs / ours.ms,
          estimatedAtIamLatencyMs: ours.ms + ours.iamCalls * ASSUMED_IAM_MS,
        });
      }
    }
  } finally {
    await aws.close();
  }
  return { sizes: options.sizes, role: 'one shared role per run', quota: LARGE_QUOTA, cli: options.cli, rows };
}
