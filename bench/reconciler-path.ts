/**
 * Our side of the comparison: the real AWS reconciler Lambda handler (middy, Powertools logger, runtime built from the
 * environment, real IAM SDK client and trust-policy driver) against the same emulator, in the two ways it is fed:
 * one EventBridge event per invocation (the Terraform topology: rule -> Lambda, reserved concurrency 1) and SQS
 * batches of 10 (the handler's SQS mode, where events on one role fold into one write).
 */
import { handlerDeps } from '../functions/aws/handler-deps.ts';
import { createReconcilerHandler } from '../functions/aws/reconciler-handler.ts';
import type { AwsEmulator } from '../local/aws-emulator/server.ts';
import { lambdaContext } from '../local/lambda-context.ts';
import type { EventReport } from '../shared/report/outcome.ts';
import { type BenchDeployment, eventBridgeEvent, handlerEnv, manualSubjects, sqsEvent } from './fixtures.ts';

export type FeedMode = 'per-event' | 'sqs-batch';

export interface ReconcilerRunResult {
  readonly mode: FeedMode;
  readonly deployments: number;
  readonly ms: number;
  readonly invocations: number;
  readonly iamCalls: number;
  readonly writes: number;
  /** Deployments whose subjects are all in the role at the end (checked on the emulator, not counted). */
  readonly granted: number;
}

export const SQS_BATCH_SIZE = 10;

/**
 * Grants `deployments` (all on `roleName`) through the reconciler handler. Timed from the first invocation to the
 * last answer; a fresh handlerDeps per run, so the runtime's cold-start work (config parse, SDK clients) is inside
 * the figure while module loading is not (that is the cold-start table).
 */
export async function runReconciler(input: {
  aws: AwsEmulator;
  config: string;
  roleName: string;
  deployments: readonly BenchDeployment[];
  mode: FeedMode;
}): Promise<ReconcilerRunResult> {
  const { aws, roleName, deployments, mode } = input;
  const deps = handlerDeps(handlerEnv(aws.url, input.config));
  const handler = createReconcilerHandler(deps);
  const iamCalls = () => aws.calls.filter((c) => c.service === 'iam' && c.params.RoleName === roleName);
  const before = iamCalls().length;
  const writesBefore = iamCalls().filter((c) => c.action === 'UpdateAssumeRolePolicy').length;
  let invocations = 0;
  const reports: EventReport[] = [];
  const started = performance.now();
  if (mode === 'per-event') {
    for (const [i, deployment] of deployments.entries()) {
      invocations++;
      const answer = await handler(eventBridgeEvent(deployment.raw, `msg_bench_${i}`), lambdaContext('reconciler'));
      if (answer !== undefined && 'reports' in answer) reports.push(...answer.reports);
    }
  } else {
    for (let i = 0; i < deployments.length; i += SQS_BATCH_SIZE) {
      invocations++;
      const chunk = deployments.slice(i, i + SQS_BATCH_SIZE).map((d) => d.raw);
      const answer = await handler(sqsEvent(chunk, i), lambdaContext('reconciler'));
      if (answer !== undefined && 'batchItemFailures' in answer && answer.batchItemFailures.length > 0) {
        throw new Error(`the reconciler asked SQS to retry ${answer.batchItemFailures.length} message(s)`);
      }
    }
  }
  const ms = performance.now() - started;
  (await deps.runtime()).iam.destroy();
  (await deps.runtime()).events.destroy();
  const failed = reports.flatMap((r) => r.results).filter((r) => r.status !== 'granted' && r.status !== 'unchanged');
  if (failed.length > 0) throw new Error(`the reconciler did not grant: ${JSON.stringify(failed[0])}`);
  const calls = iamCalls();
  const finalText = aws.getTrustPolicyText(roleName);
  const granted = deployments.filter((d) =>
    manualSubjects(d.namespace, d.airflowVersion).every((s) => finalText.includes(`"${s}"`)),
  ).length;
  return {
    mode,
    deployments: deployments.length,
    ms,
    invocations,
    iamCalls: calls.length - before,
    writes: calls.filter((c) => c.action === 'UpdateAssumeRolePolicy').length - writesBefore,
    granted,
  };
}
