import type { HttpFunction } from '@google-cloud/functions-framework';
import { WebhookRejectedError } from '../../shared/errors.ts';
import { DEFAULT_MAX_BODY_BYTES } from '../../shared/intake/webhook-verifier.ts';
import { logAndAnswer } from '../common/http-error.ts';
import { handleManual, handleWebhookNow } from '../common/request-flows.ts';
import type { GcpHandlerDeps } from './handler-deps.ts';

/**
 * One HTTP function, two routes: `POST /` (or `/webhook`) is the signed webhook, processed now and answered with the
 * per-target result; `POST /manual` is manual invocation with the bearer token. The Functions Framework keeps the
 * exact bytes in `req.rawBody`, which is what the signature covers.
 */
export function createGcpHttpFunction(deps: GcpHandlerDeps): HttpFunction {
  return async (req, res) => {
    const path = req.path.replace(/\/+$/, '') || '/';
    const logger = deps.logger.child({ requestPath: path, webhookId: req.get('webhook-id') });
    try {
      if (req.method !== 'POST') {
        throw new WebhookRejectedError('method_not_allowed', 405, `Use POST, not ${req.method}.`);
      }
      if (path !== '/' && path !== '/webhook' && path !== '/manual') {
        res.status(404).json({ error: { code: 'not_found', message: 'POST / (webhook) or /manual' } });
        return;
      }
      const body = req.rawBody ?? Buffer.alloc(0);
      if (body.byteLength > DEFAULT_MAX_BODY_BYTES) {
        throw new WebhookRejectedError(
          'payload_too_large',
          413,
          `The body is larger than ${DEFAULT_MAX_BODY_BYTES} bytes.`,
        );
      }
      const runtime = await deps.runtime();
      const request = { headers: req.headers, body: new Uint8Array(body) };
      const response =
        path === '/manual'
          ? await handleManual(runtime, request, logger)
          : await handleWebhookNow(runtime, request, logger);
      res.status(response.status).json(response.body);
    } catch (error) {
      const response = logAndAnswer(error, logger);
      res.status(response.status).json(response.body);
    }
  };
}
