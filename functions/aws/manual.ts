import { handlerDeps } from './handler-deps.ts';
import { createManualHandler } from './manual-handler.ts';

/** Lambda entry point: manual and dry-run invocations (Function URL; bearer token, optionally AWS_IAM auth too). */
export const handler = createManualHandler(handlerDeps(process.env, { function: 'manual' }));
