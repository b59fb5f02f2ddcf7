import type { FederatedIdentityCredential, ManagedServiceIdentityClient } from '@azure/arm-msi';
import { NameConflictError, TargetError, ValidationError, WriteConflictError } from '../../shared/errors.ts';
import {
  type FederatedCredential,
  normalizeCredentials,
  planAzureCredentials,
} from '../../shared/plan/azure/credentials-planner.ts';
import { ownedNamespacesAzure, revokeAzureNamespace } from '../../shared/plan/azure/ownership.ts';
import type { Target } from '../../shared/plan/targets.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import { isConcurrentWrites, isDuplicateIssuerSubject, toMsiError } from './msi-errors.ts';

/** In-place retries of a 409 once a write has made progress, with full-jitter backoff from this base. */
const IN_PLACE_RETRIES = 3;
const IN_PLACE_DELAY_MS = 50;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type AzureTarget = Extract<Target, { cloud: 'azure' }>;

/** The document reconcileTarget reads, plans on and writes: every credential of the identity, normalized. */
export type CredentialList = readonly FederatedCredential[];

export interface CredentialsDriverOptions {
  /** Credentials allowed per identity (config azure.maxCredentials; Azure's own limit is 20). */
  readonly maxCredentials: number;
}

function flat(credential: FederatedIdentityCredential): Record<string, unknown> {
  // The SDK flattens ARM's `properties`; normalizeCredentials checks every field is really there.
  const { name, issuer, subject, audiences } = credential;
  return { name, issuer, subject, audiences };
}

/**
 * The Azure side of one user-assigned managed identity. Credentials are separate resources, so unlike IAM or GCP
 * there is no document to replace: `write` applies the difference between the read list and the planned one, one
 * credential at a time, because Azure answers 409 to a second write in flight under the same identity. Credentials
 * are never updated; only this tool's own credentials of a deleted Deployment are ever deleted (prune).
 */
export function createFederatedCredentialsDriver(
  client: ManagedServiceIdentityClient,
  target: AzureTarget,
  options: CredentialsDriverOptions,
): TargetDriver<CredentialList> {
  const { resourceGroup, identityName } = target;
  const operations = client.federatedIdentityCredentials;

  /** The credential under `name`, or undefined; a name is case-insensitive in ARM. */
  async function lookup(name: string): Promise<FederatedCredential | undefined> {
    try {
      const [found] = normalizeCredentials([flat(await operations.get(resourceGroup, identityName, name))]);
      return found;
    } catch (error) {
      // A missing credential is the expected answer; a missing identity surfaces on the create right after.
      if ((error as { statusCode?: number } | null)?.statusCode === 404) return undefined;
      if (error instanceof ValidationError) throw unreadable(error);
      throw toMsiError(error, target.id, 'read');
    }
  }

  function unreadable(error: ValidationError): TargetError {
    return new TargetError(`the credentials of ${target.id} cannot be read: ${error.message}`, {
      retryable: false,
      cause: error,
    });
  }

  /** Creates one credential; false when it turned out to exist already (same issuer and subject). */
  async function create(credential: FederatedCredential): Promise<boolean> {
    // createOrUpdate would silently replace a credential someone created under this name since our read, so look
    // first: the planner's "never overwrite" promise must hold against racing writers too.
    const found = await lookup(credential.name);
    if (found !== undefined) {
      if (found.issuer === credential.issuer && found.subject === credential.subject) return false;
      throw new NameConflictError(
        `Credential name ${found.name} was just created on ${target.id} for another issuer or subject; it was not overwritten.`,
        [found.name],
        ['Check who else writes credentials on this identity, or move this Deployment to another identity.'],
      );
    }
    try {
      await operations.createOrUpdate(resourceGroup, identityName, credential.name, {
        issuer: credential.issuer,
        subject: credential.subject,
        audiences: [...credential.audiences],
      });
      return true;
    } catch (error) {
      // The issuer+subject was granted under another name since our read: the access exists, move on. The verify
      // read that follows reports it as present.
      if (isDuplicateIssuerSubject(error)) return false;
      throw error;
    }
  }

  /** Deletes one of our credentials; false when it is already gone. */
  async function remove(credential: FederatedCredential): Promise<boolean> {
    const found = await lookup(credential.name);
    if (found === undefined) return false;
    // Names are reused only after a delete; a different grant under this name is not the one we planned to remove.
    if (found.issuer !== credential.issuer || found.subject !== credential.subject) {
      throw new WriteConflictError(`credential ${credential.name} on ${target.id} changed since it was read`);
    }
    await operations.delete(resourceGroup, identityName, credential.name);
    return true;
  }

  return {
    async read() {
      const items: Record<string, unknown>[] = [];
      try {
        // The iterator follows every nextLink: planning on one page would miss credentials and the 20 limit.
        for await (const credential of operations.list(resourceGroup, identityName)) items.push(flat(credential));
      } catch (error) {
        throw toMsiError(error, target.id, 'read');
      }
      try {
        return normalizeCredentials(items);
      } catch (error) {
        throw error instanceof ValidationError ? unreadable(error) : error;
      }
    },

    plan(current, request) {
      if (request.action === 'revoke') {
        const revoke = revokeAzureNamespace(current, request.grant.namespace);
        return { changed: revoke.changed, added: revoke.removed, next: revoke.next };
      }
      if (request.issuer === undefined) {
        throw new ValidationError('an OIDC issuer is required for Azure federated credentials', { field: 'issuer' });
      }
      const plan = planAzureCredentials({
        existing: current,
        issuer: request.issuer,
        grant: request.grant,
        maxCredentials: options.maxCredentials,
      });
      // Reported in Azure's own terms: credential names, which is what a person finds in the portal.
      return {
        changed: plan.changed,
        added: plan.create.map((c) => c.name),
        present: plan.present.map((c) => c.name),
        next: [...current, ...plan.create],
      };
    },

    owned: (current) => ownedNamespacesAzure(current),

    async write(current, next) {
      const keep = new Set(next.map((c) => c.name.toLowerCase()));
      const known = new Set(current.map((c) => c.name.toLowerCase()));
      const steps = [
        ...current.filter((c) => !keep.has(c.name.toLowerCase())).map((c) => ({ kind: 'deleted', credential: c })),
        ...next.filter((c) => !known.has(c.name.toLowerCase())).map((c) => ({ kind: 'created', credential: c })),
      ] as const;
      const done: string[] = [];
      for (const { kind, credential } of steps) {
        for (let retry = 0; ; retry++) {
          try {
            const applied = kind === 'created' ? await create(credential) : await remove(credential);
            if (applied) done.push(`${kind} ${credential.name}`);
            break;
          } catch (error) {
            // reconcileTarget credits a round only when write() completes. A 409 before anything was applied costs
            // nothing: throw WriteConflictError and let it re-read and re-plan. After some credentials were created,
            // throwing would report them as "already present" and the event as unchanged (which silences Slack), so
            // wait for the other writer and retry this credential in place a few times first.
            const again = isConcurrentWrites(error) && done.length > 0 && retry < IN_PLACE_RETRIES;
            if (!again) throw toMsiError(error, target.id, kind === 'created' ? 'write' : 'delete', done);
            await sleep(Math.round(Math.random() * IN_PLACE_DELAY_MS * 2 ** retry));
          }
        }
      }
    },
  };
}
