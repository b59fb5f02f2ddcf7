import picomatch from 'picomatch';
import { ValidationError } from '../errors.ts';

/**
 * Strict validators for every identifier that can widen access. Each returns the value (or its parts) when valid and
 * throws a ValidationError that says what a valid value looks like otherwise. Nothing that fails here may reach a plan.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// A Kubernetes service account name is a DNS-1123 subdomain.
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function assertNamespace(value: string, field = 'namespace'): string {
  if (value.length === 0 || value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a Kubernetes namespace: use 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit`,
      { field },
    );
  }
  return value;
}

export function assertServiceAccountName(value: string, field = 'serviceAccount'): string {
  if (value.length === 0 || value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a Kubernetes service account name (DNS-1123 subdomain, at most 253 characters)`,
      { field },
    );
  }
  return value;
}

/**
 * An OIDC issuer must be an absolute https URL with a host and no credentials, query or fragment. The value is returned
 * unchanged: Azure compares it byte for byte with the token's `iss`, trailing slash included.
 */
export function assertIssuer(value: string, field = 'issuer'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ValidationError(`"${printable(value)}" is not a URL; expected https://<host>/<path>`, { field, cause });
  }
  const problems: string[] = [];
  if (url.protocol !== 'https:') problems.push('must use https://');
  if (url.username || url.password) problems.push('must not contain credentials');
  if (value.includes('?') || value.includes('#')) problems.push('must not have a query or fragment');
  if (!url.hostname) problems.push('must have a host');
  const whiteSpace = /\s/.test(value);
  if (whiteSpace) problems.push('must not contain white space');
  // The URL parser forgives "https:host" and surrounding white space; the issuer is compared byte for byte, so it
  // must be written out. Only said when the two problems above do not already cover it.
  if (url.protocol === 'https:' && !whiteSpace && !value.toLowerCase().startsWith('https://')) {
    problems.push('must start with https://');
  }
  if (problems.length > 0) {
    throw new ValidationError(`"${printable(value)}" is not a valid OIDC issuer: it ${problems.join(', ')}`, { field });
  }
  return value;
}

/** The issuer as IAM writes it in condition keys and OIDC provider ARNs: no scheme, no trailing slash. */
export function issuerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//i, '').replace(/\/+$/, '');
}

interface RoleArnParts {
  readonly arn: string;
  readonly partition: string;
  readonly account: string;
  readonly path: string;
  readonly name: string;
}

const ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[a-z]):iam::(\d{12}):role\/(?:([\x21-\x7e]{1,510})\/)?([\w+=,.@-]{1,64})$/;

export function parseRoleArn(value: string, field = 'roleArn'): RoleArnParts {
  const match = ROLE_ARN.exec(value);
  const [, partition, account, rawPath, name] = match ?? [];
  if (!partition || !account || !name) {
    throw new ValidationError(
      `"${printable(value)}" is not an IAM role ARN; expected arn:aws:iam::<12-digit account>:role/<optional path/><name>`,
      { field },
    );
  }
  const path = rawPath === undefined ? '/' : `/${rawPath}/`;
  if (path.includes('//') || /[*?]/.test(path)) {
    throw new ValidationError(`"${printable(value)}" has an invalid role path`, { field });
  }
  return { arn: value, partition, account, path, name };
}

export function isRoleArn(value: string): boolean {
  try {
    parseRoleArn(value);
    return true;
  } catch {
    return false;
  }
}

// Service account ids are 6-30 characters; project ids 6-30. Google-managed defaults use other domains.
const GCP_SA_EMAIL =
  /^(?:[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com|\d{6,20}-compute@developer\.gserviceaccount\.com|[a-z][a-z0-9-]{4,28}[a-z0-9]@appspot\.gserviceaccount\.com)$/;

export function assertGcpServiceAccountEmail(value: string, field = 'serviceAccount'): string {
  if (!GCP_SA_EMAIL.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a Google service account email; expected <id>@<project-id>.iam.gserviceaccount.com`,
      { field },
    );
  }
  return value;
}

export function isGcpServiceAccountEmail(value: string): boolean {
  return GCP_SA_EMAIL.test(value);
}

const GCP_PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

export function assertGcpProjectId(value: string, field = 'project'): string {
  if (!GCP_PROJECT_ID.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a Google Cloud project id: 6-30 lowercase letters, digits or "-", starting with a letter`,
      { field },
    );
  }
  return value;
}

/** The project of a service account email (`<id>@<project>.iam.gserviceaccount.com`), when it names one. */
export function gcpServiceAccountProject(email: string): string | undefined {
  return /^[^@]+@([a-z][a-z0-9-]{4,28}[a-z0-9])\.iam\.gserviceaccount\.com$/.exec(email)?.[1];
}

const GCP_POOL = /^[a-z][a-z0-9-]{4,28}[a-z0-9]\.svc\.id\.goog$/;

export function assertWorkloadIdentityPool(value: string, field = 'pool'): string {
  if (!GCP_POOL.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a GKE workload identity pool; expected <gke-project-id>.svc.id.goog`,
      { field },
    );
  }
  return value;
}

export function assertProjectNumber(value: string, field = 'projectNumber'): string {
  if (!/^[1-9]\d{5,19}$/.test(value)) {
    throw new ValidationError(`"${printable(value)}" is not a Google Cloud project number (digits only)`, { field });
  }
  return value;
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function assertAzureSubscriptionId(value: string, field = 'subscriptionId'): string {
  if (!UUID.test(value))
    throw new ValidationError(`"${printable(value)}" is not a subscription id (a UUID)`, { field });
  return value;
}

export function assertAzureResourceGroup(value: string, field = 'resourceGroup'): string {
  if (!/^[-\w.()]{1,90}$/.test(value) || value.endsWith('.')) {
    throw new ValidationError(
      `"${printable(value)}" is not a resource group name: 1-90 letters, digits, "-", "_", ".", "(" or ")", not ending in "."`,
      { field },
    );
  }
  return value;
}

export function assertAzureIdentityName(value: string, field = 'identityName'): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a managed identity name: 3-128 letters, digits, "-" or "_", starting with a letter or digit`,
      { field },
    );
  }
  return value;
}

export function assertFederatedCredentialName(value: string, field = 'name'): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a federated credential name: 3-120 letters, digits, "-" or "_", starting with a letter or digit`,
      { field },
    );
  }
  return value;
}

/**
 * Glob allowlist. An empty list allows nothing: access is never widened by omission. `*` stops at "/", `**` crosses it.
 */
export function createAllowlist(globs: readonly string[]): (value: string) => boolean {
  if (globs.length === 0) return () => false;
  const matcher = picomatch([...globs], { dot: true, nonegate: true, noextglob: true });
  return (value) => matcher(value);
}

/** Renders untrusted input safely inside an error message: control characters escaped, long values cut. */
export function printable(value: string): string {
  const escaped = JSON.stringify(value).slice(1, -1);
  return escaped.length > 120 ? `${escaped.slice(0, 117)}...` : escaped;
}
