/**
 * What people do today, scripted: for each Deployment, `aws iam get-role`, add the six subjects the Astro UI lists to
 * the document, `aws iam update-assume-role-policy`. Two AWS CLI calls per Deployment, one after the other (a shared
 * role makes every grant a read-modify-write of the same document), pointed at the emulator with --endpoint-url.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsEmulator } from '../local/aws-emulator/server.ts';
import { BENCH_ACCOUNT, BENCH_ISSUER, type BenchDeployment, manualSubjects } from './fixtures.ts';

export const INSTALL_HINT =
  'install the AWS CLI to run this row: `apt-get update && apt-get install -y awscli` (Debian/Ubuntu), or see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html';

export interface CliInfo {
  readonly available: boolean;
  readonly command?: string;
  readonly version?: string;
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<RunResult> {
  // Asynchronous on purpose: the emulator answering these calls runs on this process's event loop.
  return new Promise((resolve) => {
    execFile(command, [...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Dummy credentials and region, no config files, no pager: the CLI talks to the emulator only. */
function cliEnv(): NodeJS.ProcessEnv {
  const { PATH, HOME, LANG } = process.env;
  return {
    PATH,
    HOME,
    ...(LANG === undefined ? {} : { LANG }),
    AWS_ACCESS_KEY_ID: 'AKIABENCHLOCAL000000',
    AWS_SECRET_ACCESS_KEY: 'bench-local-secret',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CLI_AUTO_PROMPT: 'off',
  };
}

/**
 * Finds an AWS CLI: $BENCH_AWS_CLI, then Debian's package (/usr/bin/aws, the CLI v2 the project documents), then
 * `aws` on PATH. Each candidate must answer `--version`.
 */
export async function detectAwsCli(): Promise<CliInfo> {
  const candidates = [process.env.BENCH_AWS_CLI, existsSync('/usr/bin/aws') ? '/usr/bin/aws' : undefined, 'aws'];
  for (const command of candidates) {
    if (command === undefined || command === '') continue;
    const result = await run(command, ['--version'], cliEnv(), 30_000);
    const version = `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
    if (result.code === 0 && /aws-cli\//.test(version)) return { available: true, command, version };
  }
  return { available: false };
}

type Json = Record<string, unknown>;

/**
 * The person's edit between the two calls (what a jq-free `node -e` one-liner does): find the statement for the
 * cluster's OIDC provider, append the subjects it lacks, or add that statement. Runs in-process: no extra process
 * start-up is charged to the manual path.
 */
export function manualEdit(document: Json, namespaceSubjects: readonly string[]): Json {
  const hostPath = BENCH_ISSUER.replace(/^https:\/\//, '');
  const provider = `arn:aws:iam::${BENCH_ACCOUNT}:oidc-provider/${hostPath}`;
  const subKey = `${hostPath}:sub`;
  const raw = document.Statement;
  const statements = (Array.isArray(raw) ? raw : [raw]) as Json[];
  const existing = statements.find((s) => {
    const condition = s.Condition as Record<string, Json> | undefined;
    return (s.Principal as Json | undefined)?.Federated === provider && condition?.StringEquals?.[subKey] !== undefined;
  });
  if (existing === undefined) {
    statements.push({
      Effect: 'Allow',
      Principal: { Federated: provider },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${hostPath}:aud`]: 'sts.amazonaws.com', [subKey]: [...namespaceSubjects] } },
    });
  } else {
    const equals = (existing.Condition as Record<string, Json>).StringEquals as Json;
    const current = ([] as unknown[]).concat(equals[subKey]) as string[];
    equals[subKey] = [...current, ...namespaceSubjects.filter((s) => !current.includes(s))];
  }
  return { ...document, Statement: statements };
}

interface ManualRunResult {
  /** Wall time after the first k Deployments (the checkpoints asked for), in ms. */
  readonly checkpoints: ReadonlyArray<{ deployments: number; ms: number; iamCalls: number }>;
  readonly iamCalls: number;
  /** Per Deployment, in order: all its subjects are in the role at the end (checked on the emulator, not counted). */
  readonly granted: readonly boolean[];
}

/**
 * Runs the manual path for `deployments` in order against one shared role and records the elapsed time and the IAM
 * calls the emulator saw at each checkpoint, so one run of 50 also yields the figures for 1 and 10.
 */
export async function runManualCli(input: {
  cli: CliInfo;
  aws: AwsEmulator;
  roleName: string;
  deployments: readonly BenchDeployment[];
  checkpoints: readonly number[];
}): Promise<ManualRunResult> {
  const { cli, aws, roleName } = input;
  if (!cli.available || cli.command === undefined) throw new Error('the AWS CLI is not available');
  const dir = await mkdtemp(join(tmpdir(), 'aws-cli-bench-'));
  const env = cliEnv();
  const common = ['--endpoint-url', aws.url, '--region', 'us-east-1', '--output', 'json'];
  const iamCalls = () => aws.calls.filter((c) => c.service === 'iam' && c.params.RoleName === roleName).length;
  const before = iamCalls();
  const checkpoints: Array<{ deployments: number; ms: number; iamCalls: number }> = [];
  try {
    const started = performance.now();
    for (const [index, deployment] of input.deployments.entries()) {
      const read = await run(cli.command, ['iam', 'get-role', '--role-name', roleName, ...common], env);
      if (read.code !== 0) throw new Error(`aws iam get-role failed: ${read.stderr.trim()}`);
      // The CLI decodes GetRole's URL-encoded document itself.
      const role = (JSON.parse(read.stdout) as { Role: { AssumeRolePolicyDocument: Json } }).Role;
      const next = manualEdit(
        role.AssumeRolePolicyDocument,
        manualSubjects(deployment.namespace, deployment.airflowVersion),
      );
      const file = join(dir, `trust-${index}.json`);
      await writeFile(file, JSON.stringify(next, null, 2));
      const write = await run(
        cli.command,
        ['iam', 'update-assume-role-policy', '--role-name', roleName, '--policy-document', `file://${file}`, ...common],
        env,
      );
      if (write.code !== 0) throw new Error(`aws iam update-assume-role-policy failed: ${write.stderr.trim()}`);
      if (input.checkpoints.includes(index + 1)) {
        checkpoints.push({ deployments: index + 1, ms: performance.now() - started, iamCalls: iamCalls() - before });
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const finalText = aws.getTrustPolicyText(roleName);
  const granted = input.deployments.map((d) =>
    manualSubjects(d.namespace, d.airflowVersion).every((s) => finalText.includes(`"${s}"`)),
  );
  return { checkpoints, iamCalls: iamCalls() - before, granted };
}
