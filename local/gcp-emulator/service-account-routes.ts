import {
  credentialsMissing,
  GoogleApiError,
  internalError,
  invalidCredentials,
  invalidJson,
  quotaExceeded,
  unavailable,
} from './errors.ts';
import type { GcpFaultInjector } from './faults.ts';
import { parseSetRequest } from './policy-shape.ts';
import type { PolicyStore } from './policy-store.ts';
import { decode, requestedVersion } from './request.ts';

/**
 * IAM v1 `projects.serviceAccounts.getIamPolicy` / `setIamPolicy`:
 * `POST /v1/projects/<p>/serviceAccounts/<email>:getIamPolicy?options.requestedPolicyVersion=3` and `:setIamPolicy`
 * with `{"policy", "updateMask"?}`.
 */

// The generated client expands `/v1/{+resource}:verb` without escaping, so `@` and `+` arrive as they are; other
// clients may percent-encode the email, hence the decode below.
const ROUTE = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/]+):([A-Za-z]+)$/;

export interface ServiceAccountRoute {
  project: string;
  email: string;
  method: string;
}

export interface PolicyReply {
  status: number;
  body: unknown;
  headers?: Readonly<Record<string, string>>;
  /** The member an injected concurrent writer added right after this read was answered. */
  raced?: { role: string; member: string };
}

export function errorReply(error: GoogleApiError): PolicyReply {
  return { status: error.code, body: error.toJSON(), headers: error.headers };
}

export function parseServiceAccountRoute(pathname: string): ServiceAccountRoute | undefined {
  const match = ROUTE.exec(pathname);
  const project = decode(match?.[1] ?? '');
  const email = decode(match?.[2] ?? '');
  if (match === null || project === undefined || email === undefined) return undefined;
  return { project, email, method: match[3] ?? '' };
}

/** Order as at Google's front end: authentication, quota, JSON transcoding, then IAM itself. */
export function respondServiceAccountPolicy(input: {
  authorization: string | undefined;
  token: string;
  route: ServiceAccountRoute;
  query: URLSearchParams;
  body: unknown;
  /** False when the body was not JSON. */
  parsed: boolean;
  store: PolicyStore;
  faults: GcpFaultInjector;
  consumer: string;
  raceCount: () => number;
}): PolicyReply {
  const { route, store, faults } = input;
  const { method, email } = route;
  if (input.authorization === undefined) return errorReply(credentialsMissing(method));
  if (input.authorization !== `Bearer ${input.token}`) return errorReply(invalidCredentials());
  const fault = faults.pick(method, 'iam');
  if (fault === 'rate-limit') return errorReply(quotaExceeded(method, input.consumer));
  if (fault === 'server-error') return errorReply(unavailable());
  if (fault === 'internal-error') return errorReply(internalError());
  if (!input.parsed) return errorReply(invalidJson('Unexpected token.'));
  const resource = `projects/${route.project}/serviceAccounts/${email}`;
  try {
    if (method === 'getIamPolicy') {
      const policy = store.get(email, resource, requestedVersion(input.query, input.body));
      if (!faults.concurrentWrite('iam')) return { status: 200, body: policy };
      // The racing writer lands after this read was answered, so the etag the caller holds is already stale.
      const raced = store.concurrentWrite(email, input.raceCount());
      return raced === undefined ? { status: 200, body: policy } : { status: 200, body: policy, raced };
    }
    if (method === 'setIamPolicy') {
      return { status: 200, body: store.set(email, resource, parseSetRequest(input.body)).policy };
    }
    return errorReply(new GoogleApiError(501, 'UNIMPLEMENTED', `gcp-emulator does not implement ${method}.`));
  } catch (error) {
    if (error instanceof GoogleApiError) return errorReply(error);
    throw error;
  }
}
