import * as z from 'zod/mini';
import '../zod-english.ts';
import { deploymentEventSchema } from './deployment.ts';

/**
 * The message that travels from intake to the reconciler on every cloud (EventBridge detail, Pub/Sub data, Storage
 * queue message): the verified event plus the id that correlates logs and Slack. Re-validated on arrival, because a
 * queue is one more place a message can come from.
 */
export const queuedEventSchema = z.object({
  webhookId: z.string().check(z.minLength(1), z.maxLength(256)),
  event: deploymentEventSchema,
});

export type QueuedEvent = z.output<typeof queuedEventSchema>;
