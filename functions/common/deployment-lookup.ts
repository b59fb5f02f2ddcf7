import pLimit from 'p-limit';
import {
  asIdentitySyncError,
  type IdentitySyncError,
  OutOfTimeError,
  RequestRejectedError,
  UnavailableError,
} from '../../shared/errors.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';
import type { QueuedEvent } from '../../shared/intake/queued-event.ts';
import type { BatchItem } from '../../shared/reconcile/process-batch.ts';

/** Where the truth about a Deployment comes from when the Astro API is configured. */
export interface DeploymentSource {
  get(organizationId: string, deploymentId: string): Promise<Deployment | undefined>;
  /** Every Deployment of the organization: what a deletion must not take access from. */
  list(organizationId: string): Promise<{
    deployments: readonly Deployment[];
    invalid: ReadonlyArray<{ id?: string; reason: string }>;
  }>;
}

/** The source of truth for an event's organization (Astro Hosted or Software); undefined: trust the payload. */
export type SourceFor = (organizationId: string) => DeploymentSource | undefined;

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
  /** A finer reason than the error's code, for the EventsRejected metric. */
  readonly reason?: 'unknown_deployment';
}

interface Looked {
  readonly items: Array<BatchItem & { readonly messageId: string }>;
  readonly rejected: Rejected[];
  /**
   * Namespaces and workload identities of the live Deployments of every organization a deletion in the batch names
   * (read from the API after the deletions were confirmed): what those deletions must leave alone. Undefined without
   * deletions or without an API.
   */
  readonly inUse?: ReadonlySet<string>;
}

/**
 * Turns queued events into pipeline items. With an Astro API source, the Deployment is always re-read from the API,
 * so a payload cannot choose a namespace or an issuer; without one, the signed payload's `deployment` is used.
 * Reads run at once, bounded (ASTRO_READS_AT_ONCE). A deletion is applied only to what no live Deployment of its
 * organization uses (see liveOwners).
 */
export async function lookupDeployments(
  delivered: readonly Delivered[],
  sources: DeploymentSource | undefined | SourceFor,
  options: LookupOptions = {},
): Promise<Looked> {
  const routed = typeof sources === 'function';
  const sourceFor: SourceFor = typeof sources === 'function' ? sources : () => sources;
  const limit = pLimit(ASTRO_READS_AT_ONCE);
  // Read at once (bounded), kept in delivery order: reports are tied to their messages by position.
  const looked = await Promise.all(delivered.map((one) => limit(() => lookupOne(one, sourceFor, routed, options))));
  const items: Looked['items'] = [];
  const rejected: Rejected[] = [];
  for (const entry of looked) {
    if ('error' in entry) rejected.push(entry);
    else items.push(entry);
  }
  return liveOwners(items, rejected, sourceFor, options.signal);
}

interface LookupOptions {
  /** Aborted when the invocation must stop: reads not done by then are handed back (retryable). */
  readonly signal?: AbortSignal | undefined;
  /**
   * Settles a Software event sent inline (a `software` section without a token): the chart's names and the cluster
   * from config. Absent: a Software event without Houston is refused.
   */
  readonly settleSoftware?: ((deployment: Deployment) => Deployment) | undefined;
}

/**
 * Reads in flight at once. A batch is at most ten events and the API allows 25 reads a second per token, so a whole
 * batch is read in one round trip instead of ten (a slow API made ten sequential reads cost most of a minute).
 */
const ASTRO_READS_AT_ONCE = 10;

type LookedOne = Looked['items'][number] | Rejected;

async function lookupOne(
  { messageId, event: queued }: Delivered,
  sourceFor: SourceFor,
  routed: boolean,
  { signal, settleSoftware }: LookupOptions,
): Promise<LookedOne> {
  const { webhookId, event } = queued;
  const { organizationId, deploymentId } = event.data;
  const reject = (error: IdentitySyncError): Rejected => ({ messageId, eventId: webhookId, deploymentId, error });
  const source = sourceFor(organizationId);
  if (source === undefined && organizationId.startsWith('software:')) {
    const inline = event.data.deployment;
    if (settleSoftware !== undefined && inline !== undefined && event.type !== 'deployment.deleted') {
      try {
        return { messageId, eventId: webhookId, type: event.type, deployment: settleSoftware(inline) };
      } catch (error) {
        return reject(asIdentitySyncError(error));
      }
    }
    // A Software Deployment's service accounts are named after its Helm release, which only Houston knows.
    return reject(
      new RequestRejectedError(
        'invalid_input',
        `organization ${organizationId} is Astronomer Software: configure software.token so the Deployment is read from Houston`,
      ),
    );
  }
  if (source === undefined && routed && event.type === 'deployment.deleted') {
    // Prune may be on for Software's sake (software.token); a Hosted deletion nobody can confirm never revokes.
    return reject(
      new RequestRejectedError(
        'invalid_input',
        `a deletion in organization ${organizationId} cannot be confirmed without the "astro" section, so nothing is revoked`,
      ),
    );
  }
  let deployment = source === undefined ? event.data.deployment : undefined;
  if (source !== undefined) {
    try {
      deployment = await untilStopped(source.get(organizationId, deploymentId), signal, 'reading the Deployment');
    } catch (error) {
      // A bad token or a malformed answer will not fix itself; an outage or throttling will (AstroApiError says).
      return reject(asIdentitySyncError(error));
    }
    if (event.type === 'deployment.deleted') {
      // Only a Deployment the API no longer knows is cleaned up, so a forged "deleted" cannot revoke a live one;
      // its namespace then comes from the signed payload, the only place left that has it.
      if (deployment !== undefined) {
        // The API may lag a real deletion by a moment; a forged one keeps coming back until it is dead-lettered.
        return reject(
          new UnavailableError(
            `the Astro API still has Deployment ${deploymentId}; its deletion is applied once the API no longer lists it (retrying later)`,
          ),
        );
      }
      deployment = event.data.deployment;
    } else if (deployment === undefined) {
      return {
        ...reject(
          new RequestRejectedError(
            'invalid_input',
            `the Astro API does not know Deployment ${deploymentId} in organization ${organizationId}`,
          ),
        ),
        reason: 'unknown_deployment',
      };
    }
  }
  if (deployment === undefined) {
    return reject(
      new RequestRejectedError(
        'invalid_input',
        event.type === 'deployment.deleted'
          ? 'a deletion needs data.deployment (its namespace and identity) to find what to clean up'
          : 'the event carries no data.deployment and no Astro API token is configured to look it up',
      ),
    );
  }
  return { messageId, eventId: webhookId, type: event.type, deployment };
}

/**
 * The read, or an OutOfTimeError once the invocation must stop: the client's own retries could otherwise outlast the
 * invocation. The read itself is left to finish or time out on its own.
 */
function untilStopped<T>(read: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return read;
  const stopped = new OutOfTimeError(`the invocation ran out of time ${what} from the Astro API; delivered again`);
  if (signal.aborted) return Promise.reject(stopped);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(stopped);
    signal.addEventListener('abort', stop, { once: true });
    read.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}

/**
 * A deleted Deployment's namespace and identity come from the payload (the API no longer has them), so a signed
 * deletion could name a live Deployment's namespace. Read what the organization's live Deployments use, after the
 * deletions were confirmed gone; the core never revokes an owner in that set. A list that cannot be read, or holds a
 * Deployment that cannot be read, leaves room for doubt: the deletions wait (retried) or are refused, never guessed.
 */
async function liveOwners(
  items: Looked['items'],
  rejected: Rejected[],
  sourceFor: SourceFor,
  signal: AbortSignal | undefined,
): Promise<Looked> {
  const deletions = items.filter((item) => item.type === 'deployment.deleted');
  if (deletions.length === 0) return { items, rejected };
  const inUse = new Set<string>();
  const refused = new Map<string, IdentitySyncError>();
  for (const organizationId of new Set(deletions.map((item) => item.deployment.organizationId))) {
    try {
      const source = sourceFor(organizationId);
      // Without an API the payload is all there is (the config refuses prune then): nothing to protect from.
      if (source === undefined) continue;
      const listed = await untilStopped(source.list(organizationId), signal, 'listing the Deployments');
      if (listed.invalid.length > 0) {
        const error = new RequestRejectedError(
          'invalid_input',
          `the Astro API lists ${listed.invalid.length} Deployment(s) of organization ${organizationId} this tool cannot read (${listed.invalid[0]?.reason ?? ''}); one of them may use the namespace, so nothing is revoked`,
        );
        refused.set(organizationId, error);
        continue;
      }
      for (const d of listed.deployments) {
        for (const owner of [d.namespace, d.effectiveWorkloadIdentity, d.effectiveDRWorkloadIdentity]) {
          if (owner !== undefined) inUse.add(owner);
        }
      }
    } catch (error) {
      refused.set(organizationId, asIdentitySyncError(error));
    }
  }
  const kept = items.filter((item) => {
    const error = item.type === 'deployment.deleted' ? refused.get(item.deployment.organizationId) : undefined;
    if (error !== undefined) {
      rejected.push({ messageId: item.messageId, eventId: item.eventId, deploymentId: item.deployment.id, error });
    }
    return error === undefined;
  });
  return { items: kept, rejected, inUse };
}
