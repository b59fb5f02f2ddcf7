import { iam, type iam_v1 } from '@googleapis/iam';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import type { Config } from '../../shared/config.ts';
import type { GcpMemberFormat } from '../../shared/plan/gcp/policy-planner.ts';
import type { DriverFactory } from '../../shared/reconcile/process-batch.ts';
import type { TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import {
  buildFunctionRuntime,
  createEnvSecretResolver,
  type Env,
  type FunctionRuntime,
  readConfig,
} from '../common/function-runtime.ts';
import type { PipelineLogger } from '../common/pipeline.ts';
import { createIamPolicyDriver } from './iam-policy-driver.ts';

export interface GcpRuntime extends FunctionRuntime {
  readonly iam: iam_v1.Iam;
}

/** One IAM client: ADC in Google Cloud (or on a workstation), a fixed token against the local emulator. */
export function createGcpIamClient(env: Env): iam_v1.Iam {
  const rootUrl = env.ASTRO_IDENTITY_SYNC_GCP_ROOT_URL;
  const auth = rootUrl
    ? staticToken(env.ASTRO_IDENTITY_SYNC_GCP_ACCESS_TOKEN ?? '')
    : new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  return iam({
    version: 'v1',
    auth,
    ...(rootUrl ? { rootUrl } : {}),
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
      ...(env.ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS
        ? { retryDelay: Number(env.ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS), retryDelayMultiplier: 1 }
        : {}),
    },
  });
}

export function gcpDriverFactory(client: iam_v1.Iam, config: Config): DriverFactory {
  const memberFormat: GcpMemberFormat =
    config.gcp.memberFormat === 'principal' && config.gcp.projectNumber !== undefined
      ? { kind: 'principal', projectNumber: config.gcp.projectNumber }
      : { kind: 'service-account', ...(config.gcp.projectNumber ? { projectNumber: config.gcp.projectNumber } : {}) };
  return (target) => {
    if (target.cloud !== 'gcp') throw new Error(`not a GCP target: ${target.id}`);
    return createIamPolicyDriver(client, target, memberFormat) as TargetDriver<unknown>;
  };
}

/**
 * Cold start on Cloud Functions: Application Default Credentials (the function's runtime service account), secrets
 * from environment variables (Secret Manager mounts them there), and one IAM client for every request.
 */
export async function loadGcpRuntime(env: Env, logger: PipelineLogger): Promise<GcpRuntime> {
  const client = createGcpIamClient(env);
  const resolve = createEnvSecretResolver(env, 'GCP');
  const config = await readConfig(env, resolve, /^$/);
  const runtime = await buildFunctionRuntime({
    config,
    env,
    resolve,
    logger,
    drivers: { gcp: gcpDriverFactory(client, config) },
  });
  return { ...runtime, iam: client };
}

/** The local stack's emulator takes a fixed bearer token; there is nothing to refresh. */
function staticToken(token: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token });
  return client;
}
