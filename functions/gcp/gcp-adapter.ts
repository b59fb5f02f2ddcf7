// Only v1: the package's index loads v2 and v2beta as well (as with Resource Manager below).
import { iam_v1 } from '@googleapis/iam/build/v1.js';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import type { GcpMemberFormat } from '../../shared/plan/gcp/policy-planner.ts';
import { gcpProjectKind } from '../../shared/plan/gcp/project-kind.ts';
import { gcpServiceAccountKind } from '../../shared/plan/gcp/service-account-kind.ts';
import { gcpTokenCreatorKind } from '../../shared/plan/gcp/token-creator-kind.ts';
import { createAllowlist } from '../../shared/plan/guardrails.ts';
import { registerKind } from '../../shared/reconcile/target-kind.ts';
import type { CloudAdapter } from '../common/cloud-adapter.ts';
import type { Settings } from '../common/env-settings.ts';
import { classifyGcpError } from './gcp-errors.ts';
import { iamPolicyIo } from './iam-policy-io.ts';
import { timeSharedGaxiosRequests } from './metadata-timeout.ts';
import { createPolicyWriteLimiter } from './policy-write-limiter.ts';
import { projectPolicyIo, type ResourceManager } from './project-policy-io.ts';
import { createGcpSecretResolver } from './secret-manager-resolver.ts';

export interface GcpClients {
  readonly iam: iam_v1.Iam;
  /**
   * The Resource Manager v3 client (project policies), with the IAM client's auth, root URL and retries. Created on
   * first use: only project targets need it, and its code is a chunk a cold start does not load.
   */
  readonly resourceManager: () => Promise<ResourceManager>;
  /** Application Default Credentials (the function's runtime service account), or the emulator's fixed token. */
  readonly auth: GoogleAuth | OAuth2Client;
}

/** The local stack's emulator takes a fixed bearer token; there is nothing to refresh. */
function staticToken(token: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token });
  return client;
}

/**
 * The Google clients: ADC in Google Cloud (or on a workstation), a fixed token against the local emulator, which
 * serves IAM and Resource Manager at one root.
 */
function createGcpClients(settings: Settings): GcpClients {
  const { rootUrl, accessToken, retryDelayMs } = settings.gcp;
  // ADC's token comes from the metadata server in Google Cloud, through a request that sets no timeout of its own.
  if (!rootUrl) timeSharedGaxiosRequests(settings.timeouts.requestMs);
  const auth = rootUrl
    ? staticToken(accessToken ?? '')
    : new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const options = {
    auth,
    // Per attempt (gaxios' default is none): a Google API that accepts and never answers fails the attempt, which
    // gaxios retries like a network error and then reports without a status, i.e. retryable.
    timeout: settings.timeouts.requestMs,
    ...(rootUrl ? { rootUrl: rootUrl.endsWith('/') ? rootUrl : `${rootUrl}/` } : {}),
    // gaxios retries only idempotent verbs by default and both IAM calls are POST. Reading is safe to retry, and so is
    // writing: the etag turns a repeated write into a 409 that reconcileTarget resolves by re-reading.
    retryConfig: {
      retry: 3,
      httpMethodsToRetry: ['POST'],
      statusCodesToRetry: [
        [429, 429],
        [500, 599],
      ],
      // gaxios backs off 0.1 s, 0.5 s, 1.5 s by default; the local stack asks for a short fixed delay instead.
      ...(retryDelayMs === undefined ? {} : { retryDelay: retryDelayMs, retryDelayMultiplier: 1 }),
    },
  };
  let resourceManager: Promise<ResourceManager> | undefined;
  const loadResourceManager = async () => {
    // Only v3: the package's index would load all five API versions for the two calls made here.
    const { cloudresourcemanager_v3 } = await import('@googleapis/cloudresourcemanager/build/v3.js');
    return new cloudresourcemanager_v3.Cloudresourcemanager({ ...options });
  };
  return {
    iam: new iam_v1.Iam({ ...options }),
    auth,
    resourceManager: () => {
      resourceManager ??= loadResourceManager().catch((error: unknown) => {
        resourceManager = undefined;
        throw error;
      });
      return resourceManager;
    },
  };
}

function memberFormatOf(config: Parameters<CloudAdapter<GcpClients>['targets']>[1]): GcpMemberFormat {
  const { memberFormat, projectNumber } = config.gcp;
  return memberFormat === 'principal' && projectNumber !== undefined
    ? { kind: 'principal', projectNumber }
    : { kind: 'service-account', ...(projectNumber ? { projectNumber } : {}) };
}

/**
 * Cloud Functions: Application Default Credentials, secrets as environment variables (Secret Manager mounts them
 * there) or `gcp-sm:` references read at cold start, and one IAM client for every request.
 */
export const gcpAdapter: CloudAdapter<GcpClients> = {
  cloud: 'gcp',
  clients: createGcpClients,
  // Secret Manager through the same credentials as IAM; the local GCP emulator serves both APIs at one root.
  secrets: (clients, settings) =>
    createGcpSecretResolver(settings.env, {
      auth: clients.auth,
      ...(settings.gcp.rootUrl === undefined ? {} : { rootUrl: settings.gcp.rootUrl }),
      ...(settings.gcp.retryDelayMs === undefined ? {} : { minTimeoutMs: settings.gcp.retryDelayMs }),
      timeoutMs: settings.timeouts.requestMs,
    }),
  classify: classifyGcpError,
  targets(clients, config) {
    const isAstroIdentity = createAllowlist(config.gcp.allowedWorkloadIdentityPrincipals);
    const projectKind = gcpProjectKind(isAstroIdentity, config.gcp.allowedProjectRoles);
    // One per cold start: every target's writes, from every request this instance serves, share the quota.
    const writes = createPolicyWriteLimiter({ writesPerMinute: config.gcp.policyWritesPerMinute });
    return [
      registerKind(gcpServiceAccountKind(memberFormatOf(config)), (target) => iamPolicyIo(clients.iam, target, writes)),
      registerKind(gcpTokenCreatorKind(isAstroIdentity), (target) => iamPolicyIo(clients.iam, target, writes)),
      registerKind(projectKind, (target) => projectPolicyIo(clients.resourceManager, target, writes)),
    ];
  },
};
