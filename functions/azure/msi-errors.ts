import {
  DoesNotFitError,
  IdentitySyncError,
  TargetError,
  UnavailableError,
  WriteConflictError,
} from '../../shared/errors.ts';
import { AZURE_MAX_CREDENTIALS } from '../../shared/plan/azure/credentials-planner.ts';

/** What a failed @azure/arm-msi call throws: a core-rest-pipeline RestError (or an @azure/identity error). */
interface ArmFailure {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
}

const CONCURRENT_WRITES = 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity';
const PERMISSION = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';

function details(error: unknown): ArmFailure {
  return typeof error === 'object' && error !== null ? (error as ArmFailure) : { message: String(error) };
}

/** 409 for two writes under one identity at once: the write lost a race and is safe to plan again. */
export function isConcurrentWrites(error: unknown): boolean {
  const e = details(error);
  return e.statusCode === 409 && e.code === CONCURRENT_WRITES;
}

/** 400 "Issuer and subject combination already exists": the grant is already there, under another name. */
export function isDuplicateIssuerSubject(error: unknown): boolean {
  const e = details(error);
  return e.statusCode === 400 && /issuer and subject combination already exists/i.test(e.message ?? '');
}

/** The 21st credential refused (see isLimitReached). */
export function isCredentialLimit(error: unknown): boolean {
  return isLimitReached(details(error));
}

/** 400 for the 21st credential: only reachable when another writer added credentials after our read. */
function isLimitReached(e: ArmFailure): boolean {
  return e.statusCode === 400 && /too many federated identity credentials are written to/i.test(e.message ?? '');
}

type MsiAction = 'read' | 'write' | 'delete';

/**
 * Turns an ARM failure into what reconcileTarget understands, with a message a platform engineer can act on. The
 * SDK has already retried 429/503 (after Retry-After), other 5xx and network errors; what arrives here is final for
 * this event. `done` lists what this write had already applied ("created <name>"), so a partial grant is visible.
 */
export function toMsiError(error: unknown, identityId: string, action: MsiAction, done: readonly string[] = []) {
  if (error instanceof IdentitySyncError) return error; // already explained (a name conflict, a failed lookup)
  const e = details(error);
  const status = e.statusCode;
  const arm = `${e.code ?? e.name ?? 'error'}: ${e.message ?? ''}`.trim();
  const partial = done.length > 0 ? ` (${done.join(', ')} before this failure)` : '';
  const fail = (message: string, retryable: boolean) =>
    new TargetError(`${message}${partial}`, { retryable, cause: error });
  if (isConcurrentWrites(error)) {
    return new WriteConflictError(`another write under ${identityId} was in flight${partial}`, { cause: error });
  }
  if (e.name === 'CredentialUnavailableError') {
    return fail(
      'no Azure credential is available: enable a managed identity on the function app (set AZURE_CLIENT_ID for a user-assigned one)',
      false,
    );
  }
  if (status === 404) {
    return fail(`the managed identity ${identityId} was not found (check subscription, resource group, name)`, false);
  }
  if (status === 403) {
    return fail(
      `the function's identity may not ${action} federated identity credentials on ${identityId}: assign it a role ` +
        `with ${PERMISSION}/${action} on that identity (${arm})`,
      false,
    );
  }
  if (status === 401) {
    return fail(`Azure Resource Manager refused the function's token for ${identityId} (${arm})`, false);
  }
  if (isLimitReached(e)) {
    return new DoesNotFitError(
      `Azure refused a credential on ${identityId}: it already has ${AZURE_MAX_CREDENTIALS} federated credentials ` +
        `(another writer added some since they were read)${partial}. Astro supports about four Deployments per ` +
        'managed identity: use another user-assigned managed identity for this Deployment.',
      {
        size: AZURE_MAX_CREDENTIALS + 1,
        limit: AZURE_MAX_CREDENTIALS,
        remedies: ['Create another user-assigned managed identity and point this Deployment or a target rule at it.'],
      },
    );
  }
  if (e.name === 'AbortError') {
    return fail(
      `Azure Resource Manager did not answer a federated credential ${action} on ${identityId} in time`,
      true,
    );
  }
  if (status === 429) return fail(`Azure kept throttling ${action}s on ${identityId} after retries (${arm})`, true);
  // No status: the request never got an answer (DNS, reset, timeout) and may well succeed later.
  const retryable = status === undefined || status >= 500 || status === 408;
  return fail(`federated credential ${action} on ${identityId} failed: ${arm}`, retryable);
}

/** The Azure adapter's classification for a RestError no driver explained (the SDK has retried 429/5xx already). */
export function classifyArmError(error: unknown): IdentitySyncError | undefined {
  const e = details(error);
  if (e.name !== 'RestError' && e.statusCode === undefined) return undefined;
  const status = e.statusCode;
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new UnavailableError(`an Azure call did not succeed after retries (${e.code ?? e.message ?? 'no answer'})`, {
      cause: error,
    });
  }
  return new TargetError(`an Azure call was refused (${status}: ${e.code ?? ''} ${e.message ?? ''})`, {
    retryable: false,
    cause: error,
  });
}
