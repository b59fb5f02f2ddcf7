import { handlerDeps } from './handler-deps.ts';
import { warmDuringInit } from './init-phase.ts';
import { createScheduledHandler } from './scheduled-handler.ts';

const deps = handlerDeps(process.env, { function: 'scheduled' });

/** Lambda entry point: the poller and the drift sweep, invoked by EventBridge Scheduler. */
export const handler = createScheduledHandler(deps);

// The cold start runs in the init phase, on its full vCPU (see init-phase.ts); it never fails the import. `init` says
// how it went, for tests and the bench.
export const init = await warmDuringInit(process.env, deps);
