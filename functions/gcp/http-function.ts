import type { HttpFunction } from '@google-cloud/functions-framework';
import { RequestRejectedError } from '../../shared/errors.ts';
import { refuseOtherMethods } from '../../shared/intake/intake.ts';
import { answering, synchronousFlow } from '../common/http-flows.ts';
import { DEFAULT_FUNCTION_TIMEOUT_MS, invocationDeadline } from '../common/invocation-deadline.ts';
import { classifyGcpError } from './gcp-errors.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';

const ROUTES = new Set(['/', '/webhook', '/manual']);

/**
 * One HTTP function, two routes: `POST /` (or `/webhook`) is the signed webhook, processed now and answered with the
 * per-target result; `POST /manual` is manual invocation with the bearer token. The Functions Framework keeps the
 * exact bytes in `req.rawBody`, which is what the signature covers (see unparsable-json.ts for bodies it cannot
 * parse itself).
 */
export function createGcpHttpFunction(deps: GcpHandlerDeps): HttpFunction {
  return async (req, res) => {
    const started = Date.now();
    const path = req.path.replace(/\/+$/, '') || '/';
    const logger = deps.logger.child({ requestPath: path });
    const metrics = deps.metrics(logger);
    const response = await answering(logger, classifyGcpError, async () => {
      if (!ROUTES.has(path)) throw new RequestRejectedError('not_found', 'POST / (webhook) or /manual');
      refuseOtherMethods(req.method);
      const runtime = await deps.runtime();
      const request = { method: req.method, headers: req.headers, body: new Uint8Array(req.rawBody ?? []) };
      const timeoutMs = runtime.settings.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS.gcp;
      const deadline = invocationDeadline(timeoutMs - (Date.now() - started), runtime.settings);
      return synchronousFlow(path === '/manual' ? 'manual' : 'webhook', runtime, request, logger, deadline, metrics);
    });
    metrics.flush();
    res.status(response.status).json(response.body);
  };
}
