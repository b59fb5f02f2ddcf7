import type { Deployment } from '../../shared/intake/deployment.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import type { BatchItem } from '../../shared/reconcile/process-batch.ts';

/** Where the truth about a Deployment comes from when the Astro API is configured. */
export interface DeploymentSource {
  get(organizationId: string, deploymentId: string): Promise<Deployment | undefined>;
}

export interface Rejected {
  readonly eventId: string;
  readonly deploymentId: string;
  readonly reason: string;
  /** The Astro API was unavailable: the same event can succeed later, so it should be retried, not dropped. */
  readonly retryable: boolean;
}

/**
 * Turns queued events into pipeline items. With an Astro API source, the Deployment is always re-read from the API,
 * so a payload cannot choose a namespace or an issuer; without one, the signed payload's `deployment` is used.
 */
export async function toBatchItems(
  events: readonly QueuedEvent[],
  source: DeploymentSource | undefined,
): Promise<{ items: BatchItem[]; rejected: Rejected[] }> {
  const items: BatchItem[] = [];
  const rejected: Rejected[] = [];
  for (const { webhookId, event } of events) {
    const { organizationId, deploymentId } = event.data;
    let deployment = source === undefined ? event.data.deployment : undefined;
    if (source !== undefined) {
      try {
        deployment = await source.get(organizationId, deploymentId);
      } catch (error) {
        // A bad token or a malformed answer will not fix itself; an outage or throttling will.
        const retryable = (error as { retryable?: unknown }).retryable !== false;
        const reason = `the Astro API did not answer: ${(error as Error).message}`;
        rejected.push({ eventId: webhookId, deploymentId, reason, retryable });
        continue;
      }
      if (event.type === 'deployment.deleted') {
        // Only a Deployment the API no longer knows is cleaned up, so a forged "deleted" cannot revoke a live one;
        // its namespace then comes from the signed payload, the only place left that has it.
        if (deployment !== undefined) {
          rejected.push({
            eventId: webhookId,
            deploymentId,
            reason: 'the Astro API still has this Deployment; not cleaning up',
            retryable: false,
          });
          continue;
        }
        deployment = event.data.deployment;
      } else if (deployment === undefined) {
        const reason = 'the Astro API does not know this Deployment';
        rejected.push({ eventId: webhookId, deploymentId, reason, retryable: false });
        continue;
      }
    }
    if (deployment === undefined) {
      const reason =
        event.type === 'deployment.deleted'
          ? 'a deletion needs data.deployment (its namespace and identity) to find what to clean up'
          : 'the event carries no data.deployment and no Astro API token is configured to look it up';
      rejected.push({ eventId: webhookId, deploymentId, reason, retryable: false });
      continue;
    }
    items.push({ eventId: webhookId, type: event.type, deployment });
  }
  return { items, rejected };
}
