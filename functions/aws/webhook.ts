import { webhookDeps } from './webhook-deps.ts';
import { createWebhookHandler } from './webhook-handler.ts';

/** Lambda entry point: the signed webhook (Function URL, auth NONE: the signature is the authentication). */
export const handler = createWebhookHandler(webhookDeps(process.env));
