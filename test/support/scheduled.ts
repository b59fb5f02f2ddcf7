import { handlerDeps } from '../../functions/aws/handler-deps.ts';
import { createScheduledHandler } from '../../functions/aws/scheduled-handler.ts';
import type { AwsStack } from '../../local/aws-stack.ts';
import { lambdaContext } from '../../local/lambda-context.ts';

/** One run of the AWS scheduled function (its own cold start, closed afterwards), as EventBridge Scheduler runs it. */
export async function runScheduled(stack: AwsStack, task: 'poll' | 'sweep', env: Record<string, string> = {}) {
  const deps = handlerDeps({ ...stack.env, ...env });
  try {
    const result = await createScheduledHandler(deps)({ task }, lambdaContext('scheduled'));
    if ('dropped' in result) throw new Error(`schedule dropped: ${result.dropped}`);
    return result;
  } finally {
    await deps.runtime().then(
      (r) => r.close(),
      () => undefined,
    );
  }
}
