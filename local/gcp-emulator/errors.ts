/**
 * Google API errors in the AIP-193 JSON shape every googleapis.com endpoint answers with:
 * `{"error":{"code":<http>,"message":"...","status":"<google.rpc.Code name>","details":[...]}}`.
 * gaxios (under `@googleapis/iam`) turns that body into a GaxiosError whose `status`/`code` are the HTTP status and
 * whose `cause` carries `message`, `code`, `status` and `details`, so the body shape matters to callers.
 */
export class GoogleApiError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
    readonly details: ReadonlyArray<Record<string, unknown>> = [],
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'GoogleApiError';
  }

  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = { code: this.code, message: this.message, status: this.status };
    if (this.details.length > 0) error.details = this.details;
    return { error };
  }
}

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';
const SERVICE = 'iam.googleapis.com';
const AUTH_HELP =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. ' +
  'See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** The RPC names ESF reports in ErrorInfo metadata for the two service-account policy methods. */
function rpcMethod(method: string): string {
  return `google.iam.admin.v1.IAM.${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

/**
 * No Authorization header at all: Google distinguishes this (CREDENTIALS_MISSING) from a bad token. `service` and
 * `rpc` name the API in the ErrorInfo (IAM by default; Secret Manager passes its own).
 */
export function credentialsMissing(method: string, service = SERVICE, rpc = rpcMethod(method)): GoogleApiError {
  return new GoogleApiError(
    401,
    'UNAUTHENTICATED',
    `Request is missing required authentication credential. ${AUTH_HELP}`,
    [
      {
        '@type': ERROR_INFO,
        reason: 'CREDENTIALS_MISSING',
        domain: 'googleapis.com',
        metadata: { service, method: rpc },
      },
    ],
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  );
}

export function invalidCredentials(): GoogleApiError {
  return new GoogleApiError(
    401,
    'UNAUTHENTICATED',
    `Request had invalid authentication credentials. ${AUTH_HELP}`,
    [],
    { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  );
}

/**
 * Real IAM cannot tell a caller whether a service account it may not read exists (notably with the `-` project
 * wildcard), so a missing account answers 403 PERMISSION_DENIED with this text, never 404.
 */
export function permissionDenied(method: string, resource: string): GoogleApiError {
  const permission = `iam.serviceAccounts.${method}`;
  return new GoogleApiError(
    403,
    'PERMISSION_DENIED',
    `Permission '${permission}' denied on resource (or it may not exist).`,
    [
      {
        '@type': ERROR_INFO,
        reason: 'IAM_PERMISSION_DENIED',
        domain: SERVICE,
        metadata: { permission, resource },
      },
    ],
  );
}

export function invalidArgument(message: string): GoogleApiError {
  return new GoogleApiError(400, 'INVALID_ARGUMENT', message);
}

/** ESF rejects JSON that does not match the request proto before the backend sees it. */
export function unknownJsonField(name: string, at: string | undefined): GoogleApiError {
  const where = at === undefined ? '' : ` at '${at}'`;
  const description = `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`;
  return new GoogleApiError(400, 'INVALID_ARGUMENT', description, [
    { '@type': BAD_REQUEST, fieldViolations: [{ field: at ?? '', description }] },
  ]);
}

export function invalidJson(detail: string): GoogleApiError {
  return new GoogleApiError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${detail}`);
}

/** The etag of a conditional write no longer matches: another writer got there first. */
export function concurrentPolicyChange(): GoogleApiError {
  return new GoogleApiError(
    409,
    'ABORTED',
    'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.',
  );
}

/** IAM meters policy reads and writes separately (per project and minute); the message names the metric hit. */
export function quotaExceeded(method: string, consumer: string): GoogleApiError {
  const write = method === 'setIamPolicy';
  const metric = write ? 'Write requests' : 'Read requests';
  return new GoogleApiError(
    429,
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute' of service '${SERVICE}' ` +
      `for consumer '${consumer}'.`,
    [
      {
        '@type': ERROR_INFO,
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: {
          service: SERVICE,
          consumer,
          quota_metric: write ? `${SERVICE}/write_requests` : `${SERVICE}/read_requests`,
          quota_limit: write ? 'WriteRequestsPerMinutePerProject' : 'ReadRequestsPerMinutePerProject',
          quota_limit_value: write ? '600' : '6000',
        },
      },
    ],
  );
}

export function unavailable(): GoogleApiError {
  return new GoogleApiError(503, 'UNAVAILABLE', 'The service is currently unavailable.');
}

export function internalError(): GoogleApiError {
  return new GoogleApiError(500, 'INTERNAL', 'Internal error encountered.');
}

export function notFound(path: string): GoogleApiError {
  return new GoogleApiError(404, 'NOT_FOUND', `The requested URL ${path} was not found on this server.`);
}
