import { Webhook } from 'standardwebhooks';

/** Signs a body the way a Standard Webhooks sender does; used by the local stack, tests and senders we document. */
export function signWebhook(input: {
  secret: string;
  id: string;
  timestamp?: Date;
  body: string;
}): Record<string, string> {
  const timestamp = input.timestamp ?? new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': input.id,
    'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
    'webhook-signature': new Webhook(input.secret).sign(input.id, timestamp, input.body),
  };
}
