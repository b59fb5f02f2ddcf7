import { asIdentitySyncError, type IdentitySyncError, RequestRejectedError } from '../../shared/errors.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import type { BatchItem } from '../../shared/reconcile/process-batch.ts';

/** Where the truth about a Deployment comes from when the Astro API is configured. */
export interface DeploymentSource {
  get(organizationId: string, deploymentId: string): Promise<Deployment | undefined>;
}

/** A queued event with the id its transport knows it by (SQS message id, Pub/Sub message id, webhook id). */
export interface Delivered {
  readonly messageId: string;
  readonly event: QueuedEvent;
}

/** An event refused before planning: `error` says why, and whether the same event can succeed later. */
export interface Rejected {
  readonly messageId: string;
  readonly eventId: string;
  readonly deploymentId: string;
  readonly error: IdentitySyncError;
}

interface Looked {
  readonly items: Array<BatchItem & { readonly messageId: string }>;
  readonly rejected: Rejected[];
}

/**
 * Turns queued events into pipeline items. With an Astro API source, the Deployment is always re-read from the API,
 * so a payload cannot choose a namespace or an issuer; without one, the signed payload's `deployment` is used.
 * Reads run one after another: a batch is at most ten events, and the API allows 25 reads a second per token.
 */
export async function lookupDeployments(
  delivered: readonly Delivered[],
  source: DeploymentSource | undefined,
): Promise<Looked> {
  const items: Looked['items'] = [];
  const rejected: Rejected[] = [];
  for (const { messageId, event: queued } of delivered) {
    const { webhookId, event } = queued;
    const { organizationId, deploymentId } = event.data;
    const reject = (error: IdentitySyncError) => rejected.push({ messageId, eventId: webhookId, deploymentId, error });
    let deployment = source === undefined ? event.data.deployment : undefined;
    if (source !== undefined) {
      try {
        deployment = await source.get(organizationId, deploymentId);
      } catch (error) {
        // A bad token or a malformed answer will not fix itself; an outage or throttling will (AstroApiError says).
        reject(asIdentitySyncError(error));
        continue;
      }
      if (event.type === 'deployment.deleted') {
        // Only a Deployment the API no longer knows is cleaned up, so a forged "deleted" cannot revoke a live one;
        // its namespace then comes from the signed payload, the only place left that has it.
        if (deployment !== undefined) {
          reject(
            new RequestRejectedError(
              'invalid_input',
              `the Astro API still has Deployment ${deploymentId}; not cleaning up after a deletion that did not happen`,
            ),
          );
          continue;
        }
        deployment = event.data.deployment;
      } else if (deployment === undefined) {
        reject(
          new RequestRejectedError(
            'invalid_input',
            `the Astro API does not know Deployment ${deploymentId} in organization ${organizationId}`,
          ),
        );
        continue;
      }
    }
    if (deployment === undefined) {
      reject(
        new RequestRejectedError(
          'invalid_input',
          event.type === 'deployment.deleted'
            ? 'a deletion needs data.deployment (its namespace and identity) to find what to clean up'
            : 'the event carries no data.deployment and no Astro API token is configured to look it up',
        ),
      );
      continue;
    }
    items.push({ messageId, eventId: webhookId, type: event.type, deployment });
  }
  return { items, rejected };
}
