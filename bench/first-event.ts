/**
 * Part 3, second table: the first event of a cold instance. A fresh `node` imports the bundle, calls its handler once
 * with a real event, as the Lambda runtime would, and exits when the handler has answered; timed from spawn to exit,
 * interleaved with a bare `node -e ''`, medians. What the handler loads on first use (the lease table's DynamoDB
 * client, the config's schemas) and the cold-start work (settings, config parse, SDK clients, the calls) are inside
 * the figure, so moving code from module load to first use shows here and cannot hide as a saving.
 *
 * The emulators run in this process: IAM/EventBridge (the AWS emulator) and the lease table (dynalite). Each run has
 * its own webhook-id (the replay record is checked and written) and, for the reconciler, its own role to grant.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startAwsEmulator } from '../local/aws-emulator/server.ts';
import { LOCAL_BUS } from '../local/aws-stack.ts';
import { startLocalDynamo } from '../local/dynamodb-local.ts';
import { signWebhook } from '../shared/intake/webhook-signer.ts';
import { cpuShare } from './cpu-share.ts';
import {
  BENCH_ISSUER,
  benchConfig,
  benchDeployments,
  deploymentEvent,
  EC2_TRUST,
  handlerEnv,
  roleArn,
  sqsEvent,
} from './fixtures.ts';
import { median } from './stats.ts';

export interface FirstEventRow {
  readonly id: string;
  /** What the handler was given. */
  readonly event: string;
  readonly medianMs: number;
  /** Median minus the bare `node -e ''` median of the same runs. */
  readonly overBareMs: number;
  /** In the child: process start to the module's import resolved (Lambda's init phase: bootstrap and module). */
  readonly initMs: number;
  /** In the child: the first invocation, wall time and the child's own CPU time in it. */
  readonly invokeMs: number;
  readonly invokeCpuMs: number;
  /** The function's memory in infra/aws/main.tf. */
  readonly memoryMb: number;
  /** The same first event on Lambda at that memory, modeled (see `lambdaModelMs`). */
  readonly modeledMs: number;
  /**
   * The invocation of the same first event run in the function's share of one CPU (cpu-share.ts), per CFS period.
   * Empty where the machine gives the bench no cgroup to write.
   */
  readonly throttled: ReadonlyArray<{ readonly periodMs: number; readonly invokeMs: number }>;
}

export interface FirstEventResult {
  readonly runs: number;
  readonly bareNodeMedianMs: number;
  readonly rows: readonly FirstEventRow[];
}

const WEBHOOK_SECRET = `whsec_${Buffer.from('astro-identity-sync-bench-first-event').toString('base64')}`;

/** The child: import, one invocation, check the answer, exit at once (Lambda would freeze the instance instead). */
const CHILD = `
const { handler } = await import(process.env.BENCH_BUNDLE);
// The init phase ran on the whole CPU; the invocation runs in the function's share of one, when the bench has it.
if (process.env.BENCH_CPU_PROCS) (await import('node:fs')).writeFileSync(process.env.BENCH_CPU_PROCS, String(process.pid));
const initMs = performance.now();
const initCpu = process.cpuUsage();
const event = JSON.parse(process.env.BENCH_EVENT);
const context = {
  functionName: 'bench', functionVersion: '$LATEST', memoryLimitInMB: '512', awsRequestId: crypto.randomUUID(),
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench', callbackWaitsForEmptyEventLoop: false, getRemainingTimeInMillis: () => 30000,
};
const answer = await handler(event, context);
const invokeMs = performance.now() - initMs;
const cpu = process.cpuUsage(initCpu);
const ok = process.env.BENCH_EXPECT === 'accepted'
  ? answer?.statusCode === 202
  : Array.isArray(answer?.batchItemFailures) && answer.batchItemFailures.length === 0;
if (!ok) { console.error(JSON.stringify(answer)); process.exit(1); }
process.stdout.write(JSON.stringify({ initMs, invokeMs, invokeCpuMs: (cpu.user + cpu.system) / 1000 }) + '\\n', () => process.exit(0));
`;

interface Phases {
  readonly initMs: number;
  readonly invokeMs: number;
  readonly invokeCpuMs: number;
}

/** One child, spawn to exit, with the phases it reports on its last stdout line (the handler logs before it). */
function spawnMs(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; phases?: Phases }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      const ms = performance.now() - started;
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (error === null) resolve(last.startsWith('{"initMs"') ? { ms, phases: JSON.parse(last) as Phases } : { ms });
      else
        reject(new Error(`first event failed (${args.join(' ').slice(0, 80)}): ${`${stdout}${stderr}`.slice(0, 500)}`));
    });
  });
}

/**
 * On-demand Lambda runs the init phase on a full vCPU and the invocation on a share of one in proportion to memory
 * (1,769 MB is one vCPU): "On-demand Lambda functions use a full vCPU (non-throttled) ... during its initialization
 * phase" (serverlessland.com, Effectively running Java on Serverless: Utilize initialization phase) and "At 1,769 MB,
 * a function has the equivalent of one vCPU" (Lambda developer guide, Configuring memory). So the model keeps the
 * init phase and the invocation's waits as measured and stretches the invocation's own CPU time by 1769/memory.
 * A model, not a measurement: it says which side of the init boundary work should sit, not what Lambda will show.
 */
/**
 * The CFS periods the share is enforced over. Lambda does not document its own: 100 ms is Linux's default, under
 * which a first invocation of a few tens of ms of CPU is barely slowed; 10 ms spreads the same share evenly, close to
 * the model. The two bracket what the share can do to a short invocation.
 */
export const CPU_PERIODS_MS = [10, 100] as const;

export function lambdaModelMs(phases: Phases, memoryMb: number): number {
  const share = Math.min(1, memoryMb / 1769);
  return phases.initMs + phases.invokeMs + phases.invokeCpuMs * (1 / share - 1);
}

/** A Lambda function's memory as infra/aws/main.tf sets it. */
export function terraformMemoryMb(mainTf: string, name: string): number {
  const match = new RegExp(`\\b${name} = \\{[^}]*?\\bmemory\\s*=\\s*(\\d+)`).exec(mainTf);
  if (match?.[1] === undefined) throw new Error(`infra/aws/main.tf sets no memory for the ${name} function`);
  return Number(match[1]);
}

function functionUrlEvent(body: string, headers: Record<string, string>) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: 'bench.lambda-url.us-east-1.on.aws',
      domainPrefix: 'bench',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body,
    isBase64Encoded: false,
  };
}

/**
 * The first event of the AWS webhook (a signed `deployment.created`, recorded in the lease table and published) and
 * of the reconciler (a one-message SQS batch granting a Deployment on a fresh role, under the role's lease).
 */
export async function measureFirstEvent(options: {
  runs: number;
  root: string;
  /** Bundle file (relative to root) per artifact id; only aws/webhook and aws/reconciler are run. */
  bundles: ReadonlyMap<string, string>;
}): Promise<FirstEventResult> {
  const [aws, dynamo] = await Promise.all([startAwsEmulator({ oidcProviders: [BENCH_ISSUER] }), startLocalDynamo()]);
  try {
    // The environment the module-load table's processes get (this one's, without NODE_OPTIONS), so the two tables
    // compare; only the functions' variables are added.
    const inherited: NodeJS.ProcessEnv = { ...process.env };
    delete inherited.NODE_OPTIONS;
    const base: NodeJS.ProcessEnv = {
      ...inherited,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...handlerEnv(aws.url, benchConfig()),
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      ASTRO_IDENTITY_SYNC_LEASE_TABLE: dynamo.table,
      ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT: dynamo.url,
    };
    const config = JSON.parse(benchConfig()) as Record<string, unknown>;
    const webhookEnv = {
      ...base,
      ASTRO_IDENTITY_SYNC_CONFIG: JSON.stringify({ ...config, webhook: { secrets: ['env:WEBHOOK_SECRET'] } }),
      ASTRO_IDENTITY_SYNC_EVENT_BUS: LOCAL_BUS,
      WEBHOOK_SECRET,
    };
    // More for the runs in the CPU shares: every run grants a fresh role.
    const deployments = benchDeployments((1 + CPU_PERIODS_MS.length) * options.runs, {
      roleArn: (i) => roleArn(`astro-first-event-${i}`),
    });
    const kinds = [
      {
        id: 'aws/webhook',
        event: 'signed deployment.created (Function URL): replay record + PutEvents',
        env: (run: number) => {
          const body = JSON.stringify(deploymentEvent(deployments[run]?.raw ?? {}));
          const headers = signWebhook({ secret: WEBHOOK_SECRET, id: `msg_first_${randomUUID()}`, body });
          return {
            ...webhookEnv,
            BENCH_EVENT: JSON.stringify(functionUrlEvent(body, headers)),
            BENCH_EXPECT: 'accepted',
          };
        },
      },
      {
        id: 'aws/reconciler',
        event: 'one-message SQS batch: lease + GetRole + UpdateAssumeRolePolicy on a fresh role',
        env: (run: number) => {
          aws.putRole(`astro-first-event-${run}`, EC2_TRUST);
          const item = { raw: deployments[run]?.raw ?? {}, webhookId: `msg_first_${run}` };
          return { ...base, BENCH_EVENT: JSON.stringify(sqsEvent([item])), BENCH_EXPECT: 'no-failures' };
        },
      },
    ].filter((kind) => options.bundles.has(kind.id));
    const bare: number[] = [];
    type Run = { ms: number; phases?: Phases };
    const times = new Map<string, Run[]>(kinds.map((k) => [k.id, []]));
    const keys = CPU_PERIODS_MS.flatMap((ms) => kinds.map((k) => ({ kind: k, ms, key: `${k.id}@${ms}` })));
    const inShare = new Map<string, Run[]>(keys.map(({ key }) => [key, []]));
    const args = ['--input-type=module', '-e', CHILD];
    const mainTf = readFileSync(join(options.root, 'infra', 'aws', 'main.tf'), 'utf8');
    const memoryOf = (id: string) => terraformMemoryMb(mainTf, id.replace('aws/', ''));
    const shares = new Map(
      keys.map(({ kind, ms, key }) => {
        const mb = memoryOf(kind.id);
        return [key, cpuShare(`astro-bench-${mb}mb-${ms}ms`, mb / 1769, ms * 1000)];
      }),
    );
    try {
      await spawnMs(['-e', ''], base);
      for (let run = 0; run < options.runs; run++) {
        bare.push((await spawnMs(['-e', ''], base)).ms);
        for (const kind of kinds) {
          const bundle = pathToFileURL(join(options.root, options.bundles.get(kind.id) ?? '')).href;
          times.get(kind.id)?.push(await spawnMs(args, { ...kind.env(run), BENCH_BUNDLE: bundle }));
          for (const [i, ms] of CPU_PERIODS_MS.entries()) {
            const share = shares.get(`${kind.id}@${ms}`);
            if (share === undefined) continue;
            const env = {
              ...kind.env((i + 1) * options.runs + run),
              BENCH_BUNDLE: bundle,
              BENCH_CPU_PROCS: share.procs,
            };
            inShare.get(`${kind.id}@${ms}`)?.push(await spawnMs(args, env));
          }
        }
      }
    } finally {
      for (const share of shares.values()) share?.close();
    }
    const bareMedian = median(bare);
    return {
      runs: options.runs,
      bareNodeMedianMs: bareMedian,
      rows: kinds.map((kind) => {
        const runs = times.get(kind.id) ?? [];
        const ms = median(runs.map((r) => r.ms));
        const phases = runs.flatMap((r) => (r.phases === undefined ? [] : [r.phases]));
        const memoryMb = memoryOf(kind.id);
        const throttled = CPU_PERIODS_MS.flatMap((periodMs) => {
          const runs = inShare.get(`${kind.id}@${periodMs}`) ?? [];
          const phases = runs.flatMap((r) => (r.phases === undefined ? [] : [r.phases]));
          return phases.length === 0 ? [] : [{ periodMs, invokeMs: median(phases.map((p) => p.invokeMs)) }];
        });
        return {
          id: kind.id,
          event: kind.event,
          medianMs: ms,
          overBareMs: ms - bareMedian,
          initMs: median(phases.map((p) => p.initMs)),
          invokeMs: median(phases.map((p) => p.invokeMs)),
          invokeCpuMs: median(phases.map((p) => p.invokeCpuMs)),
          memoryMb,
          modeledMs: median(phases.map((p) => lambdaModelMs(p, memoryMb))),
          throttled,
        };
      }),
    };
  } finally {
    await Promise.all([aws.close(), dynamo.close()]);
  }
}
