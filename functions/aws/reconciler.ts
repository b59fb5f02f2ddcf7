import { handlerDeps } from './handler-deps.ts';
import { warmDuringInit } from './init-phase.ts';
import { createReconcilerHandler } from './reconciler-handler.ts';

const deps = handlerDeps(process.env, { function: 'reconciler' });

/** Lambda entry point: EventBridge rule target or SQS consumer; the only function allowed to write trust policies. */
export const handler = createReconcilerHandler(deps);

// The cold start runs in the init phase, on its full vCPU (see init-phase.ts); it never fails the import. `init` says
// how it went, for tests and the bench.
export const init = await warmDuringInit(process.env, deps);
