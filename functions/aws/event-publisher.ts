import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { TargetError } from '../../shared/errors.ts';
import type { DeploymentEvent } from '../../shared/intake/deployment.ts';

export const EVENT_SOURCE = 'astro-identity-sync';
export const EVENT_DETAIL_TYPE = 'Astro Deployment Changed';

/** What travels on the bus: the verified event and the id that correlates logs and Slack across functions. */
export interface BusDetail {
  readonly webhookId: string;
  readonly event: DeploymentEvent;
}

/**
 * PutEvents reports failures per entry with HTTP 200, so a call that "succeeded" can still have dropped the event.
 * Failed entries are re-sent (bounded); if any remain, the webhook answers 5xx and the sender retries.
 */
export async function publishEvents(
  client: EventBridgeClient,
  busName: string,
  details: readonly BusDetail[],
  options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const attempts = options.attempts ?? 3;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let pending: PutEventsRequestEntry[] = details.map((detail) => ({
    EventBusName: busName,
    Source: EVENT_SOURCE,
    DetailType: EVENT_DETAIL_TYPE,
    Detail: JSON.stringify(detail),
    Resources: [],
  }));
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed: PutEventsRequestEntry[] = [];
    let lastError = '';
    // PutEvents takes at most 10 entries per call.
    for (let i = 0; i < pending.length; i += 10) {
      const chunk = pending.slice(i, i + 10);
      const response = await client.send(new PutEventsCommand({ Entries: chunk }));
      if (!response.FailedEntryCount) continue;
      response.Entries?.forEach((entry, index) => {
        const original = chunk[index];
        if (entry.ErrorCode !== undefined && original !== undefined) {
          failed.push(original);
          lastError = `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`;
        }
      });
    }
    pending = failed;
    if (pending.length === 0) return;
    if (attempt >= attempts) {
      throw new TargetError(
        `EventBridge did not accept ${pending.length} event(s) after ${attempts} attempts (${lastError})`,
        {
          retryable: true,
        },
      );
    }
    await sleep(100 * 2 ** attempt);
  }
}
