import { handlerDeps } from './handler-deps.ts';
import { createScheduledHandler } from './scheduled-handler.ts';

/** Lambda entry point: the poller and the drift sweep, invoked by EventBridge Scheduler. */
export const handler = createScheduledHandler(handlerDeps(process.env, { function: 'scheduled' }));
