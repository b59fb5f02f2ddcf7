import { handlerDeps } from './handler-deps.ts';
import { createReconcilerHandler } from './reconciler-handler.ts';

/** Lambda entry point: EventBridge rule target or SQS consumer; the only function allowed to write trust policies. */
export const handler = createReconcilerHandler(handlerDeps(process.env, { function: 'reconciler' }));
