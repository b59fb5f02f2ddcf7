// @azure/functions is CommonJS and Node's ESM loader does not detect its named exports: import the module object.
import functions from '@azure/functions';
import { readSettings } from '../common/env-settings.ts';
import { azureHandlerDeps } from './handler-deps.ts';
import { createAzureHttpHandlers } from './http-handlers.ts';
import { createQueueHandler } from './queue-handler.ts';
import { createTimerHandler } from './timer-handler.ts';

/**
 * Azure Functions entry point (v4 programming model). The only file that reads process.env: everything else takes the
 * environment as an argument, so tests and the local stack build the same handlers from their own settings.
 */
const { app } = functions;
// Registration needs the queue and schedule settings before any invocation; the config itself is read at cold start.
const settings = readSettings(process.env, { requireConfig: false });
const deps = azureHandlerDeps(process.env);
const http = createAzureHttpHandlers(deps);

// Every method reaches the handler so that a GET answers our 405 JSON error instead of the host's bare 404.
const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

// The signature is the authentication, so Astro or CI can call it without a function key.
app.http('webhook', { route: 'webhook', authLevel: 'anonymous', methods: [...methods], handler: http.webhook });
// The bearer token authenticates; the function key (x-functions-key) keeps anonymous callers away from it altogether.
app.http('manual', { route: 'manual', authLevel: 'function', methods: [...methods], handler: http.manual });

app.storageQueue('reconciler', {
  queueName: settings.azure.queueName,
  // The name of the app setting holding the storage connection (or its identity-based `__queueServiceUri` form).
  connection: settings.azure.queueConnection,
  handler: createQueueHandler(deps),
});

// The poller and the sweep need the Astro API section of the config, so they are opt-in: set the NCRONTAB schedules
// (e.g. "0 */5 * * * *" and "0 0 * * * *") in the app settings to register them.
for (const [task, schedule] of [
  ['poll', settings.azure.pollSchedule],
  ['sweep', settings.azure.sweepSchedule],
] as const) {
  if (schedule) app.timer(task, { schedule, handler: createTimerHandler(deps, task) });
}
