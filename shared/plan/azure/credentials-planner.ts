import { DoesNotFitError, NameConflictError, ValidationError } from '../../errors.ts';
import { isJsonObject, type JsonObject } from '../aws/policy-document.ts';
import { assertFederatedCredentialName, assertIssuer } from '../guardrails.ts';
import { assertSubjectsInNamespace, type DesiredGrant } from '../subjects.ts';

export const AZURE_AUDIENCE = 'api://AzureADTokenExchange';
export const AZURE_MAX_CREDENTIALS = 20;

export interface FederatedCredential {
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

interface AzureCredentialsPlanInput {
  /** Existing credentials: flat `{name, issuer, subject, audiences}` or ARM `{name, properties: {...}}`. */
  readonly existing: unknown;
  readonly issuer: string;
  readonly grant: DesiredGrant;
  readonly maxCredentials?: number;
  /**
   * For the Deployment's secondary (disaster-recovery) cluster: credentials are named `<ns>-<component>-dr`, since
   * names are immutable and unique per identity and the primary cluster's credentials hold the plain names.
   */
  readonly dr?: boolean;
}

interface AzureCredentialsPlan {
  readonly changed: boolean;
  readonly added: readonly string[];
  readonly create: readonly FederatedCredential[];
  /**
   * The existing credentials that already federate one of the Deployment's subjects for this issuer (under any name),
   * sorted by name; in changed and unchanged plans alike.
   */
  readonly present: readonly FederatedCredential[];
  /** The subjects of `present`, sorted: with `added`, every subject of the Deployment. */
  readonly presentSubjects: readonly string[];
}

const CREDENTIALS_HINT = 'give the output of az identity federated-credential list (a JSON array)';

/** The list out of an ARM list page (`{value, nextLink}`); an object that is anything else is refused. */
function pageItems(value: JsonObject, field: string): unknown {
  if (!Array.isArray(value.value)) {
    throw new ValidationError(`expected an array of federated identity credentials; ${CREDENTIALS_HINT}`, { field });
  }
  const foreign = Object.keys(value).find((key) => key !== 'value' && key !== 'nextLink');
  if (foreign !== undefined) {
    throw new ValidationError(`not a field of an ARM list page (value, nextLink); ${CREDENTIALS_HINT}`, {
      field: `${field}.${foreign}`,
    });
  }
  // Planning on one page would miss the credentials of the others, and the per-identity limit with them.
  if (value.nextLink !== undefined && value.nextLink !== null && value.nextLink !== '') {
    throw new ValidationError(`the list continues on another page; ${CREDENTIALS_HINT}, which reads every page`, {
      field: `${field}.nextLink`,
    });
  }
  return value.value;
}

/** Normalizes one credential from either shape; a complete ARM list page (`{value: [...]}`) is accepted too. */
export function normalizeCredentials(value: unknown, field = 'credentials'): FederatedCredential[] {
  const list = isJsonObject(value) ? pageItems(value, field) : value;
  if (!Array.isArray(list)) {
    throw new ValidationError(`expected an array of federated identity credentials; ${CREDENTIALS_HINT}`, { field });
  }
  return list.map((item, index) => {
    const source = isJsonObject(item) && isJsonObject(item.properties) ? { ...item.properties, name: item.name } : item;
    const ok =
      isJsonObject(source) &&
      typeof source.name === 'string' &&
      typeof source.issuer === 'string' &&
      typeof source.subject === 'string' &&
      (source.audiences === undefined ||
        (Array.isArray(source.audiences) && source.audiences.every((a) => typeof a === 'string')));
    if (!ok) {
      throw new ValidationError('each credential needs "name", "issuer" and "subject" strings', {
        field: `${field}.${index}`,
      });
    }
    const { name, issuer, subject, audiences } = source as {
      name: string;
      issuer: string;
      subject: string;
      audiences?: string[];
    };
    return { name, issuer, subject, audiences: audiences ?? [] };
  });
}

// True both for a plan (which creates nothing) and for a run that stops before its first write.
const ALL_OR_NOTHING =
  "a Deployment's credentials are created all or nothing, so none of them can be added to this identity";

const byName = (a: FederatedCredential, b: FederatedCredential) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Credential names are `<namespace>-<component>`, the name Astro's own `az` command uses. */
export function credentialName(namespace: string, component: string, dr = false): string {
  return assertFederatedCredentialName(`${namespace}-${component}${dr ? DR_SUFFIX : ''}`);
}

/** The suffix of the credentials that trust a Deployment's disaster-recovery cluster. */
export const DR_SUFFIX = '-dr';

/**
 * Plans the credentials to create, all or nothing: a Deployment whose credentials do not all fit gets none, and a
 * name held by another issuer/subject stops the plan instead of being overwritten.
 */
export function planAzureCredentials(input: AzureCredentialsPlanInput): AzureCredentialsPlan {
  const existing = normalizeCredentials(input.existing);
  const issuer = assertIssuer(input.issuer);
  assertSubjectsInNamespace(input.grant);
  const maxCredentials = input.maxCredentials ?? AZURE_MAX_CREDENTIALS;

  const create: FederatedCredential[] = [];
  const present: FederatedCredential[] = [];
  const conflicts: string[] = [];
  const wrongAudience: string[] = [];
  for (const { component, subject } of input.grant.components) {
    const name = credentialName(input.grant.namespace, component, input.dr === true);
    // Azure compares the issuer byte for byte (trailing slash included) and the subject exactly.
    const same = existing.find((c) => c.issuer === issuer && c.subject === subject);
    if (same !== undefined) {
      // Issuer+subject is unique per identity, so a credential with the wrong audience cannot be added alongside:
      // the token exchange would keep failing while we reported success. Say so instead.
      if (!same.audiences.includes(AZURE_AUDIENCE)) {
        wrongAudience.push(same.name);
        continue;
      }
      present.push(same);
      continue;
    }
    // Resource names are case-insensitive in Azure Resource Manager.
    if (existing.some((c) => c.name.toLowerCase() === name.toLowerCase())) {
      conflicts.push(name);
      continue;
    }
    create.push({ name, issuer, subject, audiences: [AZURE_AUDIENCE] });
  }
  if (wrongAudience.length > 0) {
    throw new NameConflictError(
      `Credential(s) ${wrongAudience.join(', ')} already federate this issuer and subject but not for audience ${AZURE_AUDIENCE}; ${ALL_OR_NOTHING}.`,
      wrongAudience,
      [
        `Set the credential's audience to ${AZURE_AUDIENCE} (az identity federated-credential update --audiences), or delete it.`,
      ],
    );
  }
  if (conflicts.length > 0) {
    throw new NameConflictError(
      `Credential name(s) ${conflicts.join(', ')} already exist for another issuer or subject; ${ALL_OR_NOTHING}.`,
      conflicts,
      [
        'Check whether the existing credential is stale (an old cluster issuer) and delete it, or',
        'move this Deployment to another managed identity.',
      ],
    );
  }
  const needed = existing.length + create.length;
  if (create.length > 0 && needed > maxCredentials) {
    // The reason alone (without the remedies) is what Slack and HTTP callers show first, so it carries the numbers
    // and the way out: a person reading only this line must know that another identity is needed.
    throw new DoesNotFitError(
      `The identity has ${existing.length} of ${maxCredentials} federated credentials; this Deployment needs ${create.length} more ` +
        `(${needed} > ${maxCredentials}); ${ALL_OR_NOTHING}. Astro supports about four Deployments per managed ` +
        'identity: use another user-assigned managed identity for this Deployment.',
      {
        size: needed,
        limit: maxCredentials,
        remedies: [
          'Create another user-assigned managed identity (Astro supports about four Deployments per identity) and point this Deployment or a target rule at it.',
          'Delete credentials of Deployments that no longer exist (enable prune).',
        ],
      },
    );
  }
  create.sort(byName);
  present.sort(byName);
  return {
    changed: create.length > 0,
    added: create.map((c) => c.subject).sort(),
    create,
    present,
    presentSubjects: present.map((c) => c.subject).sort(),
  };
}
