import { handlerDeps } from './handler-deps.ts';
import { warmDuringInit } from './init-phase.ts';
import { createManualHandler } from './manual-handler.ts';

const deps = handlerDeps(process.env, { function: 'manual' });

/** Lambda entry point: manual and dry-run invocations (Function URL; bearer token, optionally AWS_IAM auth too). */
export const handler = createManualHandler(deps);

// The cold start runs in the init phase, on its full vCPU (see init-phase.ts); it never fails the import. `init` says
// how it went, for tests and the bench.
export const init = await warmDuringInit(process.env, deps);
