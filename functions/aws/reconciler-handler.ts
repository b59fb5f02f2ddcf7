import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { parseQueueMessage } from '../../shared/intake/intake.ts';
import { intakeMetrics, record as recordMetrics } from '../../shared/report/metrics.ts';
import type { Delivered } from '../common/deployment-lookup.ts';
import { invocationDeadline } from '../common/invocation-deadline.ts';
import { consumeQueued } from '../common/queue-consumer.ts';
import type { Runtime } from '../common/runtime.ts';
import type { AwsClients } from './aws-adapter.ts';
import type { HandlerDeps } from './handler-deps.ts';

/**
 * The SQS consumer the event source mapping invokes with up to 10 messages (the EventBridge rule's target is the
 * queue, as infra/aws/main.tf wires it). Events for the same role are merged into one write. Messages that failed
 * in a retryable way (throttling, a writer that keeps replacing the policy, the Astro API down) are returned in
 * `batchItemFailures`, so SQS delivers only those again and, after `maxReceiveCount`, moves them to the
 * dead-letter queue. A malformed message is logged and dropped: delivering it again cannot fix it.
 */
export function createReconcilerHandler(deps: HandlerDeps<Runtime<AwsClients>>) {
  return middy<SQSEvent, SQSBatchResponse>()
    .use(injectLambdaContext(deps.logger.powertools, { resetKeys: true }))
    .use(logMetrics(deps.metrics.powertools, { throwOnEmptyMetrics: false }))
    .handler(async (input, context) => {
      const delivered: Delivered[] = [];
      for (const record of input.Records) {
        const parsed = parseQueueMessage('sqs', record.body);
        if (parsed.ok) delivered.push({ messageId: record.messageId, event: parsed.value });
        else {
          recordMetrics(deps.metrics, intakeMetrics({ received: 1, rejected: ['malformed_message'] }));
          deps.logger.error('dropping a malformed message (not retried)', {
            messageId: record.messageId,
            reason: parsed.reason,
            issues: parsed.issues,
          });
        }
      }
      const runtime = await deps.runtime();
      // Lambda says how long is left: what cannot finish in it comes back in batchItemFailures, not as a timeout
      // that would make SQS deliver the whole batch again.
      const deadline = invocationDeadline(context.getRemainingTimeInMillis(), runtime.settings);
      const { retry } = await consumeQueued(runtime, delivered, deps.logger, {
        deadline,
        metrics: deps.metrics,
      });
      return { batchItemFailures: [...retry].map((itemIdentifier) => ({ itemIdentifier })) };
    });
}
