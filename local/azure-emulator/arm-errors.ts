/**
 * Azure Resource Manager error replies. Every ARM error body is `{ "error": { "code", "message" } }` (CloudError);
 * `@azure/core-client` turns it into a RestError whose `code` is `error.code` and `message` is `error.message`.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'ArmError';
  }

  body(): { error: { code: string; message: string } } {
    return { error: { code: this.code, message: this.message } };
  }
}

/** Versions of Microsoft.ManagedIdentity that know federatedIdentityCredentials; @azure/arm-msi 2.2.0 sends 2024-11-30. */
const SUPPORTED_API_VERSIONS: readonly string[] = [
  '2022-01-31-preview',
  '2023-01-31',
  '2023-07-31-preview',
  '2024-11-30',
  '2025-01-31-preview',
];

export const MAX_CREDENTIALS_PER_IDENTITY = 20;

/**
 * Returns the version when supported, else the 400 ARM answers before routing to the provider (absent, malformed,
 * or unknown to the type).
 */
export function checkApiVersion(apiVersion: string | null): string | ArmError {
  if (apiVersion === null || apiVersion === '') {
    return new ArmError(
      400,
      'MissingApiVersionParameter',
      'The api-version query parameter (?api-version=) is required for all requests.',
    );
  }
  if (SUPPORTED_API_VERSIONS.includes(apiVersion)) return apiVersion;
  const supported = SUPPORTED_API_VERSIONS.join(', ');
  if (!/^\d{4}-\d{2}-\d{2}(-[a-z]+)?$/i.test(apiVersion)) {
    return new ArmError(
      400,
      'InvalidApiVersionParameter',
      `The api-version '${apiVersion}' is invalid. The supported versions are '${supported}'.`,
    );
  }
  // A well-formed version the provider does not register is a different ARM error than a malformed one.
  return new ArmError(
    400,
    'NoRegisteredProviderFound',
    `No registered resource provider found for location 'eastus' and API version '${apiVersion}' for type ` +
      `'userAssignedIdentities/federatedIdentityCredentials'. The supported api-versions are '${supported}'.`,
  );
}

export function missingAuthorization(): ArmError {
  return new ArmError(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", {
    'www-authenticate': 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"',
  });
}

export function invalidToken(): ArmError {
  return new ArmError(401, 'InvalidAuthenticationToken', 'The access token is invalid.', {
    'www-authenticate':
      'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", ' +
      'error_description="The access token is invalid."',
  });
}

export function identityNotFound(resourceGroup: string, identity: string): ArmError {
  return new ArmError(
    404,
    'ResourceNotFound',
    `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${identity}' under resource group ` +
      `'${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function credentialNotFound(identity: string, name: string): ArmError {
  return new ArmError(
    404,
    'NotFound',
    `Federated Identity Credential '${name}' was not found under the managed identity '${identity}'.`,
  );
}

export function concurrentWrites(identityId: string): ArmError {
  // Azure lower-cases the identity's resource id in this message.
  return new ArmError(
    409,
    'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
    `Too many Federated Identity Credentials are written concurrently for the managed identity ` +
      `'${identityId.toLowerCase()}'. Concurrent Federated Identity Credentials writes under the same managed ` +
      'identity are not supported.',
  );
}

export function throttled(retryAfterSeconds: number): ArmError {
  return new ArmError(
    429,
    'TooManyRequests',
    'The request is being throttled as the limit has been reached for operation type - Write. For more ' +
      'information, see - https://aka.ms/srpthrottlinglimits',
    { 'retry-after': String(retryAfterSeconds) },
  );
}

export function serverError(status: 500 | 503, retryAfterSeconds: number): ArmError {
  if (status === 503) {
    return new ArmError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please try again later.', {
      'retry-after': String(retryAfterSeconds),
    });
  }
  return new ArmError(500, 'InternalServerError', 'Encountered internal server error. Please try again.');
}

export function badRequest(message: string): ArmError {
  return new ArmError(400, 'BadRequest', message);
}
