import { DEFAULT_SERVICE_ACCOUNTS } from '../components.ts';
import { assertNamespace } from '../guardrails.ts';
import { type ForeignEntry, type RevokePlan, subjectNamespace } from '../ownership.ts';
import { DR_SUFFIX, type FederatedCredential, normalizeCredentials } from './credentials-planner.ts';

/**
 * What this tool owns on a managed identity: credentials named `<ns>-<component>` (or `<ns>-<component>-dr`, for the
 * disaster-recovery cluster) whose subject is in that namespace.
 */

const COMPONENTS = Object.keys(DEFAULT_SERVICE_ACCOUNTS);

function azureOwnedNamespace(credential: FederatedCredential): string | undefined {
  const namespace = subjectNamespace(credential.subject);
  if (namespace === undefined) return undefined;
  const name = credential.name.toLowerCase();
  return COMPONENTS.some((component) =>
    [`${namespace}-${component}`, `${namespace}-${component}${DR_SUFFIX}`].includes(name),
  )
    ? namespace
    : undefined;
}

/** Credentials naming a namespace's service account that this tool did not name: a person's, never touched. */
export function foreignCredentialsAzure(existing: unknown): ForeignEntry[] {
  return normalizeCredentials(existing).flatMap((credential) => {
    const namespace = subjectNamespace(credential.subject);
    return namespace === undefined || azureOwnedNamespace(credential) !== undefined
      ? []
      : [{ entry: `${credential.name}: ${credential.subject}`, namespace }];
  });
}

export function ownedNamespacesAzure(existing: unknown): Set<string> {
  return new Set(
    normalizeCredentials(existing)
      .map(azureOwnedNamespace)
      .filter((ns): ns is string => ns !== undefined),
  );
}

/** The credentials to delete for a namespace (ours only); `next` is the list without them. */
export function revokeAzureNamespace(existing: unknown, namespace: string): RevokePlan<FederatedCredential[]> {
  assertNamespace(namespace);
  const credentials = normalizeCredentials(existing);
  const removed = credentials.filter((c) => azureOwnedNamespace(c) === namespace);
  if (removed.length === 0) return { changed: false, removed: [], next: credentials };
  return {
    changed: true,
    removed: removed.map((c) => c.name).sort(),
    next: credentials.filter((c) => !removed.includes(c)),
  };
}
