import {
  DoesNotFitError,
  type IdentitySyncError,
  TargetError,
  UnavailableError,
  WriteConflictError,
} from '../../shared/errors.ts';

interface GoogleError {
  status?: number;
  message?: string;
  response?: { status?: number; data?: { error?: { status?: string; message?: string } } };
}

/**
 * Turns a failed IAM call into what a platform engineer can act on. Google answers 403 both for "no permission" and
 * for a service account that does not exist (so callers cannot probe for accounts); the message says both.
 */
export function toGcpTargetError(
  error: unknown,
  serviceAccount: string,
  method: 'getIamPolicy' | 'setIamPolicy',
): Error {
  const e = (error ?? {}) as GoogleError;
  const status = e.status ?? e.response?.status ?? 0;
  const message = e.response?.data?.error?.message ?? e.message ?? String(error);
  if (status === 409)
    return new WriteConflictError(`the policy of ${serviceAccount} changed since it was read`, { cause: error });
  if (status === 403 || status === 404) {
    return new TargetError(
      `cannot ${method} on ${serviceAccount}: it does not exist, or this function's service account lacks iam.serviceAccounts.${method} on it (grant the custom role on that service account)`,
      { retryable: false, cause: error },
    );
  }
  if (status === 400 && /Identity Pool does not exist/i.test(message)) {
    return new TargetError(
      `${message.split('.')[0]}: the GKE project has no workload identity pool by that name; check gcp.pools (the pool is <gke-project-id>.svc.id.goog of the cluster's project)`,
      { retryable: false, cause: error },
    );
  }
  if (status === 400 && /number of members/i.test(message)) {
    return new DoesNotFitError(`Google refused the policy: ${message}`, {
      size: 1501,
      limit: 1500,
      remedies: ['Use another Google service account for some Deployments.'],
    });
  }
  if (status === 401) {
    return new TargetError(`Google rejected this function's credentials (${message})`, {
      retryable: false,
      cause: error,
    });
  }
  const retryable = status === 0 || status === 429 || status >= 500;
  const hint = status === 429 ? ' (IAM allows about 600 policy writes per minute per project)' : '';
  return new TargetError(`${method} on ${serviceAccount} failed: ${status || 'network'} ${message}${hint}`, {
    retryable,
    cause: error,
  });
}

/**
 * The same for a project's policy (Resource Manager). A project the caller may not see answers 403 like a missing
 * permission; 404 is what a malformed or deleted project id gets from some front ends.
 */
export function toGcpProjectError(error: unknown, project: string, method: 'getIamPolicy' | 'setIamPolicy'): Error {
  const e = (error ?? {}) as GoogleError;
  const status = e.status ?? e.response?.status ?? 0;
  const message = e.response?.data?.error?.message ?? e.message ?? String(error);
  if (status === 409) {
    return new WriteConflictError(`the IAM policy of project ${project} changed since it was read`, { cause: error });
  }
  if (status === 403) {
    return new TargetError(
      `cannot ${method} on project ${project}: this function's service account lacks resourcemanager.projects.${method} on it, or the project does not exist (Google answers both alike)`,
      {
        retryable: false,
        cause: error,
        remedies: [
          `Add ${project} to project_role_targets of the Terraform module (it grants getIamPolicy and setIamPolicy on that project only).`,
          'Check the project id in the rule and gcp.allowedProjects.',
        ],
      },
    );
  }
  if (status === 404) {
    return new TargetError(`project ${project} was not found, or this function cannot see it: check the project id`, {
      retryable: false,
      cause: error,
    });
  }
  if (status === 400 && /number of members/i.test(message)) {
    return new DoesNotFitError(`Google refused the policy of project ${project}: ${message}`, {
      size: 1501,
      limit: 1500,
      remedies: ['Grant the role to a group instead, or enable prune so members of deleted Deployments go.'],
    });
  }
  if (status === 401) {
    return new TargetError(`Google rejected this function's credentials (${message})`, {
      retryable: false,
      cause: error,
    });
  }
  const retryable = status === 0 || status === 429 || status >= 500;
  const hint = status === 429 ? ' (Resource Manager meters IAM policy reads and writes per minute)' : '';
  return new TargetError(`${method} on project ${project} failed: ${status || 'network'} ${message}${hint}`, {
    retryable,
    cause: error,
  });
}

/**
 * The GCP adapter's classification for what a driver did not explain: a Google API error with a status (gaxios
 * has retried 429 and 5xx already), or a request that got no answer.
 */
export function classifyGcpError(error: unknown): IdentitySyncError | undefined {
  const e = (error ?? {}) as GoogleError & { code?: unknown };
  const status = e.status ?? e.response?.status;
  if (status === undefined && typeof e.code !== 'string') return undefined;
  if (status === undefined || status === 429 || status >= 500) {
    return new UnavailableError(`a Google API call did not succeed after retries (${e.message ?? 'no answer'})`, {
      cause: error,
    });
  }
  return new TargetError(`a Google API call was refused (${status}: ${e.message ?? ''})`, {
    retryable: false,
    cause: error,
  });
}
