import type { Deployment } from '../../shared/deployment.ts';
import type { BatchItem } from '../../shared/process-batch.ts';
import type { QueuedEvent } from '../../shared/queued-event.ts';

/** Where the truth about a Deployment comes from when the Astro API is configured. */
export interface DeploymentSource {
  get(organizationId: string, deploymentId: string): Promise<Deployment | undefined>;
}

export interface Rejected {
  readonly eventId: string;
  readonly deploymentId: string;
  readonly reason: string;
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
        rejected.push({
          eventId: webhookId,
          deploymentId,
          reason: `the Astro API did not answer: ${(error as Error).message}`,
        });
        continue;
      }
      if (deployment === undefined && event.type !== 'deployment.deleted') {
        rejected.push({ eventId: webhookId, deploymentId, reason: 'the Astro API does not know this Deployment' });
        continue;
      }
    }
    if (deployment === undefined) {
      rejected.push({
        eventId: webhookId,
        deploymentId,
        reason: 'the event carries no data.deployment and no Astro API token is configured to look it up',
      });
      continue;
    }
    items.push({ eventId: webhookId, type: event.type, deployment });
  }
  return { items, rejected };
}
