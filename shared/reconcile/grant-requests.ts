import { type Config, componentTableFrom, softwareComponentTableFrom } from '../config.ts';
import { IdentitySyncError } from '../errors.ts';
import type { Deployment } from '../intake/deployment.ts';
import { selectComponents } from '../plan/components.ts';
import {
  assertIssuer,
  createAllowlist,
  gcpServiceAccountProject,
  isGcpServiceAccountEmail,
  isRoleArn,
  parseRoleArn,
} from '../plan/guardrails.ts';
import { type DesiredGrant, desiredGrant } from '../plan/subjects.ts';
import { type ClusterRole, createAllowlists, drPool, type Target } from '../plan/targets.ts';
import type { GrantRequest } from './reconcile-target.ts';
import type { TargetHandle } from './target-kind.ts';

/**
 * One Deployment's requests on one target: a grant per cluster it must trust (its primary cluster, and its
 * secondary one once the Deployment has disaster recovery), applied all or nothing as one group; or, for a deleted
 * Deployment, what takes its entries back. A part that cannot be requested (no issuer, a principal outside the
 * allowlist, no pool for the DR cluster) is a refusal with its reason, never a silent skip.
 */
export type Planned =
  | { readonly request: GrantRequest; readonly dr: boolean }
  | { readonly refused: string; readonly status: 'denied' | 'failed'; readonly dr: boolean };

export interface RequestContext {
  readonly config: Config;
  readonly table: ReturnType<typeof componentTableFrom>;
  readonly softwareTable: ReturnType<typeof componentTableFrom>;
  readonly allowlists: ReturnType<typeof createAllowlists>;
  readonly issuerAllowed: (issuer: string) => boolean;
}

export function requestContext(config: Config): RequestContext {
  return {
    config,
    table: componentTableFrom(config),
    softwareTable: softwareComponentTableFrom(config),
    allowlists: createAllowlists(config),
    issuerAllowed: config.allowedIssuers ? createAllowlist(config.allowedIssuers) : () => true,
  };
}

export function requestsFor(
  context: RequestContext,
  input: {
    readonly key: string;
    readonly deployment: Deployment;
    readonly target: Target;
    readonly handle: TargetHandle;
    readonly clusters: readonly ClusterRole[];
    readonly componentSets: ReadonlyArray<readonly string[] | undefined>;
    readonly deleted: boolean;
    /** Owners a live Deployment still uses: a deletion is refused for them (see BatchOptions.inUse). */
    readonly inUse?: ReadonlySet<string> | undefined;
  },
): Planned[] {
  const { deployment, target, handle, key } = input;
  let grant: DesiredGrant;
  try {
    grant = grantFor(context, deployment, target, input.componentSets);
  } catch (error) {
    return [{ refused: reasonOf(error), status: 'failed', dr: false }];
  }
  if (input.deleted) {
    const simulate = !context.config.prune;
    const live = (owner: string, what: string, dr: boolean): Planned => ({
      refused: `${what} ${owner} is still used by a live Deployment of the organization; a deletion never revokes it`,
      status: 'denied',
      dr,
    });
    // Namespace-owned entries go with one revoke, whatever cluster they trust; principal-owned ones per principal.
    if (handle.owner === 'namespace') {
      if (input.inUse?.has(grant.namespace)) return [live(grant.namespace, 'namespace', false)];
      return [{ request: { key, grant, issuer: undefined, action: 'revoke', simulate }, dr: false }];
    }
    const principals = [...new Set([deployment.effectiveWorkloadIdentity, deployment.effectiveDRWorkloadIdentity])];
    return principals.flatMap((principal, i): Planned[] => {
      if (principal === undefined) return [];
      if (input.inUse?.has(principal)) return [live(principal, 'workload identity', i > 0)];
      return [
        {
          request: { key: `${key}|p${i}`, grant, issuer: undefined, principal, action: 'revoke', simulate },
          dr: i > 0,
        },
      ];
    });
  }
  const planned: Planned[] = [];
  for (const cluster of input.clusters) {
    const dr = cluster === 'dr';
    // A Deployment without disaster recovery has no secondary cluster to trust: nothing to ask for.
    if (dr && deployment.drOidcIssuerUrl === undefined) continue;
    const part = clusterPart(context, deployment, target, handle, dr);
    if (part === 'skip') continue;
    if ('refused' in part) {
      planned.push({ ...part, dr });
      continue;
    }
    // A project target's roles go with each request (see GrantRequest.roles).
    const roles = target.kind === 'gcp-project' ? { roles: target.roles } : {};
    planned.push({
      request: { key: `${key}|${cluster}`, grant, group: key, dr, ...part, ...roles },
      dr,
    });
  }
  return planned;
}

type Part =
  | { readonly issuer: string | undefined; readonly pool?: string; readonly principal?: string }
  | { readonly refused: string; readonly status: 'denied' | 'failed' }
  | 'skip';

function clusterPart(
  context: RequestContext,
  deployment: Deployment,
  target: Target,
  handle: TargetHandle,
  dr: boolean,
): Part {
  const which = dr ? 'disaster-recovery cluster' : 'cluster';
  if (handle.needs === 'issuer') {
    const issuer = dr ? deployment.drOidcIssuerUrl : deployment.oidcIssuerUrl;
    try {
      return { issuer: issuerFor(issuer, dr, context.issuerAllowed) };
    } catch (error) {
      return { refused: reasonOf(error), status: 'failed' };
    }
  }
  if (handle.needs === 'pool') {
    const pool = dr
      ? drPool(context.config, deployment)
      : target.kind === 'gcp-service-account'
        ? target.pool
        : undefined;
    if (pool === undefined) {
      const issuer = deployment.drOidcIssuerUrl ?? '';
      return {
        refused: dr
          ? `no workload identity pool is configured for the ${which} (issuer ${issuer}); set gcp.pools.byIssuer for it`
          : 'no workload identity pool is configured for this cluster; set gcp.pools.byClusterId or gcp.pools.default',
        status: 'failed',
      };
    }
    return { issuer: undefined, pool };
  }
  const principal = dr ? deployment.effectiveDRWorkloadIdentity : deployment.effectiveWorkloadIdentity;
  // The secondary cluster usually runs under the same Astro identity: nothing more to trust then.
  if (dr && (principal === undefined || principal === deployment.effectiveWorkloadIdentity)) return 'skip';
  if (principal === undefined) {
    return { refused: 'the Deployment has no effectiveWorkloadIdentity to trust', status: 'failed' };
  }
  const problem = principalProblem(context, target, principal);
  return problem === undefined ? { issuer: undefined, principal } : { refused: problem, status: 'denied' };
}

/**
 * Whether the tool may trust this principal on this target. It comes from the Astro API (or a signed payload), so
 * only an allowlisted Astro identity passes, and never one of the target's own account or project unless the config
 * says so: that would be the customer trusting itself, not Astro.
 */
function principalProblem(context: RequestContext, target: Target, principal: string): string | undefined {
  const { config, allowlists } = context;
  if (target.cloud === 'aws') {
    if (!isRoleArn(principal) || !allowlists.awsPrincipal(principal)) {
      return `the workload identity ${principal} is not in aws.allowedWorkloadIdentityPrincipals; only an allowlisted Astro identity is trusted this way`;
    }
    if (target.kind === 'aws-role-principal' && !config.aws.allowSelfTrust) {
      if (parseRoleArn(principal).account === parseRoleArn(target.roleArn).account) {
        return `${principal} is in the role's own account; trusting it is refused (set aws.allowSelfTrust to allow it)`;
      }
    }
    return undefined;
  }
  if (!isGcpServiceAccountEmail(principal) || !allowlists.gcpPrincipal(principal)) {
    return `the workload identity ${principal} is not in gcp.allowedWorkloadIdentityPrincipals; only an allowlisted Astro identity is granted this way`;
  }
  const own =
    target.kind === 'gcp-project'
      ? target.project
      : target.kind === 'gcp-service-account-token-creator'
        ? gcpServiceAccountProject(target.serviceAccount)
        : undefined;
  if (!config.gcp.allowSelfTrust && own !== undefined && gcpServiceAccountProject(principal) === own) {
    return `${principal} is in project ${own} itself; granting it is refused (set gcp.allowSelfTrust to allow it)`;
  }
  return undefined;
}

function grantFor(
  context: RequestContext,
  deployment: Deployment,
  target: Target,
  componentSets: ReadonlyArray<readonly string[] | undefined>,
): DesiredGrant {
  const { config } = context;
  // A Software Deployment runs the Airflow chart's service accounts, named after its Helm release.
  const table = deployment.software === undefined ? context.table : context.softwareTable;
  const selection = {
    airflowVersion: deployment.airflowVersion,
    astroRuntimeVersion: deployment.astroRuntimeVersion,
    remoteExecution: deployment.remoteExecution?.enabled,
  };
  const components = [
    ...new Set(componentSets.flatMap((set) => selectComponents({ ...selection, components: set }, table))),
  ];
  return desiredGrant({
    namespace: deployment.namespace,
    table,
    release: deployment.software?.releaseName,
    selection: { ...selection, components },
    // Only IAM trust policies take patterns; GCP members and Azure subjects must be exact.
    ...(target.kind === 'aws-role'
      ? { wildcard: { requested: config.wildcard.enabled, clusterType: deployment.type, strict: false } }
      : {}),
  });
}

function issuerFor(issuer: string | undefined, dr: boolean, allowed: (issuer: string) => boolean): string {
  const field = dr ? 'drOidcIssuerUrl' : 'oidcIssuerUrl';
  if (issuer === undefined) {
    throw new IdentitySyncError('invalid_input', `the Deployment has no ${field} (its cluster's OIDC issuer)`);
  }
  assertIssuer(issuer, field);
  if (!allowed(issuer)) throw new IdentitySyncError('invalid_input', `the issuer ${issuer} is not in allowedIssuers`);
  return issuer;
}

function reasonOf(error: unknown): string {
  return error instanceof IdentitySyncError ? error.message : String(error);
}
