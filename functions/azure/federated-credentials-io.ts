import type { FederatedIdentityCredential, ManagedServiceIdentityClient } from '@azure/arm-msi';
import { NameConflictError, TargetError, ValidationError, WriteConflictError } from '../../shared/errors.ts';
import { type FederatedCredential, normalizeCredentials } from '../../shared/plan/azure/credentials-planner.ts';
import type { CredentialList } from '../../shared/plan/azure/identity-kind.ts';
import type { TargetIo, TargetOf } from '../../shared/reconcile/target-kind.ts';
import { withRetries } from '../common/retry.ts';
import { isConcurrentWrites, isCredentialLimit, isDuplicateIssuerSubject, toMsiError } from './msi-errors.ts';

/** In-place retries of a 409 once a write has made progress, with full-jitter backoff from this base. */
const IN_PLACE_RETRIES = 3;
const IN_PLACE_DELAY_MS = 50;

type AzureTarget = TargetOf<'azure-identity'>;

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
export function federatedCredentialsIo(
  client: ManagedServiceIdentityClient,
  target: AzureTarget,
): TargetIo<CredentialList> {
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

  /** Deletes credentials this write just created; one that cannot be deleted is reported, never left unsaid. */
  async function rollBack(names: readonly string[]): Promise<void> {
    for (const name of names) {
      try {
        await operations.delete(resourceGroup, identityName, name);
      } catch (error) {
        throw toMsiError(
          error,
          target.id,
          'delete',
          names.map((n) => `created ${n}`),
        );
      }
    }
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

    async write(current, next) {
      const keep = new Set(next.map((c) => c.name.toLowerCase()));
      const known = new Set(current.map((c) => c.name.toLowerCase()));
      const steps = [
        ...current.filter((c) => !keep.has(c.name.toLowerCase())).map((c) => ({ kind: 'deleted', credential: c })),
        ...next.filter((c) => !known.has(c.name.toLowerCase())).map((c) => ({ kind: 'created', credential: c })),
      ] as const;
      const done: string[] = [];
      const created: string[] = [];
      for (const { kind, credential } of steps) {
        try {
          // reconcileTarget credits a round only when write() completes. A 409 before anything was applied costs
          // nothing: throw WriteConflictError and let it re-read and re-plan. After some credentials were created,
          // throwing would report them as "already present" and the event as unchanged (which silences Slack), so
          // wait for the other writer and retry this credential in place a few times first.
          const applied = await withRetries(() => (kind === 'created' ? create(credential) : remove(credential)), {
            retries: IN_PLACE_RETRIES,
            minTimeoutMs: IN_PLACE_DELAY_MS,
            maxTimeoutMs: IN_PLACE_DELAY_MS * 2 ** IN_PLACE_RETRIES,
            retryable: (error) => isConcurrentWrites(error) && done.length > 0,
          });
          if (applied) done.push(`${kind} ${credential.name}`);
        } catch (error) {
          // Another writer (another instance) took the last of the 20 slots after our read: a Deployment's grant is
          // all or nothing, so take back what this write created, then re-read and re-plan with the real count.
          if (kind === 'created' && isCredentialLimit(error) && created.length > 0) {
            await rollBack(created);
            throw new WriteConflictError(
              `${target.id} reached the 20-credential limit while this write ran (another writer took slots); rolled back ${created.join(', ')}`,
              { cause: error },
            );
          }
          throw toMsiError(error, target.id, kind === 'created' ? 'write' : 'delete', done);
        }
        if (kind === 'created') created.push(credential.name);
      }
    },
  };
}
