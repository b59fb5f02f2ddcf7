/**
 * Our side of the comparison: the real AWS reconciler Lambda handler (middy, Powertools logger, runtime built from the
 * environment, real IAM SDK client and trust-policy driver) against the same emulator, fed the way the Terraform
 * topology feeds it: the bus's rule -> the events queue -> the event source mapping (one batch in flight, as with
 * reserved concurrency 1). Two batch sizes: 1 (every event on its own invocation, as when events arrive further apart
 * than the batching window) and 10 (a burst, where events on one role fold into one write).
 */
import { createReconcilerHandler } from '../functions/aws/reconciler-handler.ts';
import type { AwsEmulator } from '../local/aws-emulator/server.ts';
import { SqsEventSourceMapping } from '../local/aws-emulator/sqs-event-source-mapping.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import {
  type BenchDeployment,
  benchHandlerDeps,
  busEntry,
  busRule,
  eventsQueue,
  handlerEnv,
  manualSubjects,
} from './fixtures.ts';

export type FeedMode = 'per-event' | 'sqs-batch';

interface ReconcilerRunResult {
  readonly mode: FeedMode;
  readonly deployments: number;
  readonly ms: number;
  readonly invocations: number;
  readonly iamCalls: number;
  readonly writes: number;
  /** Deployments whose subjects are all in the role at the end (checked on the emulator, not counted). */
  readonly granted: number;
}

const SQS_BATCH_SIZE = 10;

/**
 * Grants `deployments` (all on `roleName`) through the reconciler handler behind the emulated queue. Timed from the
 * events reaching the rule to the queue being drained; a fresh handlerDeps per run, so the runtime's cold-start work
 * (config parse, SDK clients) is inside the figure while module loading is not (that is the cold-start table). The
 * batching window is 0: every event is queued before the first receive, so batches are full without waiting.
 */
export async function runReconciler(input: {
  aws: AwsEmulator;
  config: string;
  roleName: string;
  deployments: readonly BenchDeployment[];
  mode: FeedMode;
}): Promise<ReconcilerRunResult> {
  const { aws, roleName, deployments, mode } = input;
  const deps = benchHandlerDeps(handlerEnv(aws.url, input.config));
  const handler = createReconcilerHandler(deps);
  const queue = eventsQueue();
  const mapping = new SqsEventSourceMapping({
    queue,
    invoke: (event) => handler(event, lambdaContext('reconciler', 300_000)),
    batchSize: mode === 'per-event' ? 1 : SQS_BATCH_SIZE,
    batchWindowMs: 0,
  });
  const iamCalls = () => aws.calls.filter((c) => c.service === 'iam' && c.params.RoleName === roleName);
  const before = iamCalls().length;
  const writesBefore = iamCalls().filter((c) => c.action === 'UpdateAssumeRolePolicy').length;
  const entries = deployments.map((d, i) => busEntry(d.raw, `msg_bench_${i}`));
  const started = performance.now();
  busRule(queue).deliver(entries);
  await mapping.idle();
  const ms = performance.now() - started;
  await mapping.close();
  queue.close();
  (await deps.runtime()).close();
  const retried = mapping.invocations.filter((i) => i.outcome !== 'success');
  if (retried[0] !== undefined) {
    throw new Error(`the reconciler did not take a batch (${retried[0].outcome}: ${retried[0].error ?? 'items'})`);
  }
  const calls = iamCalls();
  const finalText = aws.getTrustPolicyText(roleName);
  const granted = deployments.filter((d) =>
    manualSubjects(d.namespace, d.airflowVersion).every((s) => finalText.includes(`"${s}"`)),
  ).length;
  return {
    mode,
    deployments: deployments.length,
    ms,
    invocations: mapping.invocations.length,
    iamCalls: calls.length - before,
    writes: calls.filter((c) => c.action === 'UpdateAssumeRolePolicy').length - writesBefore,
    granted,
  };
}
