import {
  type ArmError,
  badRequest,
  credentialNotFound,
  identityNotFound,
  MAX_CREDENTIALS_PER_IDENTITY,
} from './arm-errors.ts';

const CREDENTIAL_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';

interface StoredCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

interface CredentialResource {
  id: string;
  name: string;
  type: string;
  properties: { issuer: string; subject: string; audiences: string[] };
}

interface Identity {
  id: string;
  name: string;
  resourceGroup: string;
  /** Keyed by lower-cased name: ARM resource names are case-insensitive; the stored name keeps its first casing. */
  credentials: Map<string, StoredCredential>;
}

export interface IdentityRef {
  subscriptionId: string;
  resourceGroup: string;
  identity: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

const NAME_MESSAGE =
  'The name of a federated identity credentials must be within 3 and 120 characters, only contains letters ' +
  '(A-Z, a-z), numbers, hyphens and dashes and must start with a number or letter.';

const DUPLICATE_MESSAGE = 'Issuer and subject combination already exists for this Managed Identity.';

function keyOf(ref: IdentityRef): string {
  return `${ref.subscriptionId}/${ref.resourceGroup}/${ref.identity}`.toLowerCase();
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function stringArray(value: unknown): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? [...value] : undefined;
}

/** Checks a PUT body the way the provider does; returns the credential to store or the 400 to answer. */
export function parseCredential(name: string, body: unknown): StoredCredential | ArmError {
  if (!NAME_PATTERN.test(name)) return badRequest(NAME_MESSAGE);
  const properties =
    typeof body === 'object' && body !== null ? (body as { properties?: unknown }).properties : undefined;
  const props = typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>) : {};
  const { issuer, subject } = props;
  const audiences = stringArray(props.audiences);
  if (typeof issuer !== 'string' || typeof subject !== 'string' || audiences === undefined || issuer === '') {
    return badRequest(
      "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.",
    );
  }
  if (audiences.length !== 1 || audiences[0] === '') {
    return badRequest(
      `Federated Identity Credential must have exactly one audience, but ${audiences.length} were specified.`,
    );
  }
  // Exact comparison later on: the token's `iss` must match character for character (trailing slash included).
  if (!isHttpsUrl(issuer)) return badRequest(`The issuer '${issuer}' is invalid. The issuer must be an HTTPS URL.`);
  if (subject === '' || subject.includes('*')) {
    return badRequest(
      `The subject '${subject}' is invalid. Wildcard characters are not supported in the subject of a ` +
        'Federated Identity Credential of a managed identity.',
    );
  }
  return { name, issuer, subject, audiences };
}

export class CredentialStore {
  readonly #identities = new Map<string, Identity>();

  putIdentity(ref: IdentityRef): void {
    const key = keyOf(ref);
    if (this.#identities.has(key)) return;
    this.#identities.set(key, {
      id:
        `/subscriptions/${ref.subscriptionId}/resourcegroups/${ref.resourceGroup}` +
        `/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${ref.identity}`,
      name: ref.identity,
      resourceGroup: ref.resourceGroup,
      credentials: new Map(),
    });
  }

  /** Key used to count writes in flight: one per identity, whatever casing the caller used. */
  identityKey(ref: IdentityRef): string {
    return keyOf(ref);
  }

  identityId(ref: IdentityRef): string {
    return this.#require(ref).id;
  }

  #require(ref: IdentityRef): Identity {
    const identity = this.#identities.get(keyOf(ref));
    if (identity === undefined) throw identityNotFound(ref.resourceGroup, ref.identity);
    return identity;
  }

  /** Throws the ARM 404 when the identity is missing. */
  assertIdentity(ref: IdentityRef): void {
    this.#require(ref);
  }

  resource(ref: IdentityRef, credential: StoredCredential): CredentialResource {
    const identity = this.#require(ref);
    return {
      id: `${identity.id}/federatedIdentityCredentials/${credential.name}`,
      name: credential.name,
      type: CREDENTIAL_TYPE,
      properties: { issuer: credential.issuer, subject: credential.subject, audiences: [...credential.audiences] },
    };
  }

  list(ref: IdentityRef): StoredCredential[] {
    return [...this.#require(ref).credentials.values()].map((c) => ({ ...c, audiences: [...c.audiences] }));
  }

  get(ref: IdentityRef, name: string): StoredCredential {
    const found = this.#require(ref).credentials.get(name.toLowerCase());
    if (found === undefined) throw credentialNotFound(ref.identity, name);
    return found;
  }

  /** Applies the identity-wide rules (uniqueness, the 20 limit); returns whether the credential was created. */
  upsert(ref: IdentityRef, credential: StoredCredential): { created: boolean; stored: StoredCredential } {
    const identity = this.#require(ref);
    const key = credential.name.toLowerCase();
    const existing = identity.credentials.get(key);
    for (const [otherKey, other] of identity.credentials) {
      if (otherKey !== key && other.issuer === credential.issuer && other.subject === credential.subject) {
        throw badRequest(DUPLICATE_MESSAGE);
      }
    }
    if (existing === undefined && identity.credentials.size >= MAX_CREDENTIALS_PER_IDENTITY) {
      throw badRequest(
        `Too many Federated Identity Credentials are written to Managed Identity '${identity.id}'. ` +
          `A managed identity can have at most ${MAX_CREDENTIALS_PER_IDENTITY} Federated Identity Credentials ` +
          `(${MAX_CREDENTIALS_PER_IDENTITY} limit).`,
      );
    }
    // The name is immutable: an update keeps the casing it was created with.
    const stored = { ...credential, name: existing?.name ?? credential.name, audiences: [...credential.audiences] };
    identity.credentials.set(key, stored);
    return { created: existing === undefined, stored };
  }

  /** Seeding path for tests: no validation at all, so fixtures can hold states the API would refuse. */
  seed(ref: IdentityRef, credential: StoredCredential): void {
    this.putIdentity(ref);
    const identity = this.#require(ref);
    const key = credential.name.toLowerCase();
    const name = identity.credentials.get(key)?.name ?? credential.name;
    identity.credentials.set(key, { ...credential, name, audiences: [...credential.audiences] });
  }

  delete(ref: IdentityRef, name: string): boolean {
    return this.#require(ref).credentials.delete(name.toLowerCase());
  }
}
