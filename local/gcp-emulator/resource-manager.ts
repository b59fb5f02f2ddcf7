import {
  credentialsMissing,
  GoogleApiError,
  internalError,
  invalidArgument,
  invalidCredentials,
  invalidJson,
  unavailable,
} from './errors.ts';
import type { GcpFaultInjector } from './faults.ts';
import { parseSetRequest } from './policy-shape.ts';
import { PolicyStore } from './policy-store.ts';
import { decode, requestedVersion } from './request.ts';
import { type PolicyReply, errorReply as reply } from './service-account-routes.ts';

/**
 * Cloud Resource Manager v3 `projects.getIamPolicy` / `projects.setIamPolicy` as REST serves them:
 * `POST /v3/projects/<project>:getIamPolicy` with `{"options": {"requestedPolicyVersion": 3}}` and
 * `POST /v3/projects/<project>:setIamPolicy` with `{"policy", "updateMask"?}`. The policy rules are IAM's (etag,
 * versions and conditions, 1,500 members, update mask `bindings, etag` by default so audit configs stay), shared with
 * the service-account routes; what differs is here: the permission names, the etag text of a 409, and that a project
 * takes no `allUsers` / `allAuthenticatedUsers`.
 */

const SERVICE = 'cloudresourcemanager.googleapis.com';
const ROUTE = /^\/v3\/projects\/([^/:]+):([A-Za-z]+)$/;
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);

export interface ProjectRoute {
  project: string;
  /** `getIamPolicy`, `setIamPolicy`, or any other verb (answered 501). */
  method: string;
}

export function parseProjectRoute(pathname: string): ProjectRoute | undefined {
  const match = ROUTE.exec(pathname);
  const project = decode(match?.[1] ?? '');
  if (match === null || project === undefined) return undefined;
  return { project, method: match[2] ?? '' };
}

/** As Resource Manager v3 words it; it cannot tell a caller without access whether the project exists. */
function permissionDenied(method: string, resource: string): GoogleApiError {
  const permission = `resourcemanager.projects.${method}`;
  return new GoogleApiError(
    403,
    'PERMISSION_DENIED',
    `Permission '${permission}' denied on resource '//${SERVICE}/${resource}' (or it may not exist).`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'IAM_PERMISSION_DENIED',
        domain: SERVICE,
        metadata: { permission, resource },
      },
    ],
  );
}

/** Google prints an etag's bytes C-escaped (`'\007\005\350...'`). */
function printedEtag(etag: string): string {
  return [...Buffer.from(etag, 'base64')]
    .map((byte) =>
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c && byte !== 0x27
        ? String.fromCharCode(byte)
        : `\\${byte.toString(8).padStart(3, '0')}`,
    )
    .join('');
}

function concurrentChange(sent: string, current: string): GoogleApiError {
  return new GoogleApiError(
    409,
    'ABORTED',
    'There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff. ' +
      `The request's ETag '${printedEtag(sent)}' did not match the current policy's ETag '${printedEtag(current)}'.`,
  );
}

function quotaExceeded(method: string, consumer: string): GoogleApiError {
  const metric = method === 'setIamPolicy' ? 'Write requests' : 'Read requests';
  return new GoogleApiError(
    429,
    'RESOURCE_EXHAUSTED',
    `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute' of service '${SERVICE}' for consumer '${consumer}'.`,
    [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'RATE_LIMIT_EXCEEDED',
        domain: 'googleapis.com',
        metadata: { service: SERVICE, consumer },
      },
    ],
  );
}

/** Project policies, by project id; a project the emulator was not given answers 403 like one the caller cannot see. */
export function createProjectStore(pools: Iterable<string>): PolicyStore {
  return new PolicyStore(pools, {
    denied: permissionDenied,
    conflict: concurrentChange,
    checkMember(member) {
      if (PUBLIC_MEMBERS.has(member)) {
        throw invalidArgument(`Project does not support ${member} as a member of a binding.`);
      }
    },
    racingRole: 'roles/browser',
  });
}

/**
 * One project policy request, in the order of Google's front end: authentication, injected faults (quota, 5xx), the
 * JSON body, then Resource Manager itself. `parsed` is undefined when the body was not JSON.
 */
export function respondProjectPolicy(input: {
  authorization: string | undefined;
  token: string;
  route: ProjectRoute;
  body: unknown;
  parsed: boolean;
  store: PolicyStore;
  faults: GcpFaultInjector;
  consumer: string;
  raceCount: () => number;
}): PolicyReply {
  const { route, store, faults } = input;
  const rpc = `google.cloud.resourcemanager.v3.Projects.${route.method.charAt(0).toUpperCase()}${route.method.slice(1)}`;
  if (input.authorization === undefined) return reply(credentialsMissing(route.method, SERVICE, rpc));
  if (input.authorization !== `Bearer ${input.token}`) return reply(invalidCredentials());
  const fault = faults.pick(route.method, 'cloudresourcemanager');
  if (fault === 'rate-limit') return reply(quotaExceeded(route.method, input.consumer));
  if (fault === 'server-error') return reply(unavailable());
  if (fault === 'internal-error') return reply(internalError());
  if (!input.parsed) return reply(invalidJson('Unexpected token.'));
  const resource = `projects/${route.project}`;
  try {
    if (route.method === 'getIamPolicy') {
      const policy = store.get(route.project, resource, requestedVersion(new URLSearchParams(), input.body));
      if (!faults.concurrentWrite('cloudresourcemanager')) return { status: 200, body: policy };
      // The racing writer lands after this read was answered, so the etag the caller holds is already stale.
      const raced = store.concurrentWrite(route.project, input.raceCount());
      return raced === undefined ? { status: 200, body: policy } : { status: 200, body: policy, raced };
    }
    if (route.method === 'setIamPolicy') {
      return { status: 200, body: store.set(route.project, resource, parseSetRequest(input.body)).policy };
    }
    return reply(new GoogleApiError(501, 'UNIMPLEMENTED', `gcp-emulator does not implement projects.${route.method}.`));
  } catch (error) {
    if (error instanceof GoogleApiError) return reply(error);
    throw error;
  }
}
