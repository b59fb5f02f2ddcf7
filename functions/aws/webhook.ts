import { warmDuringInit } from './init-phase.ts';
import { webhookDeps } from './webhook-deps.ts';
import { createWebhookHandler } from './webhook-handler.ts';

const deps = webhookDeps(process.env);

/** Lambda entry point: the signed webhook (Function URL, auth NONE: the signature is the authentication). */
export const handler = createWebhookHandler(deps);

// The cold start runs in the init phase, on its full vCPU (see init-phase.ts); it never fails the import. `init` says
// how it went, for tests and the bench.
export const init = await warmDuringInit(process.env, deps);
