import picomatch from 'picomatch';
import type { Config, TargetRule } from '../config.ts';
import type { Deployment } from '../intake/deployment.ts';
import { createAllowlist, isGcpServiceAccountEmail, isRoleArn } from './guardrails.ts';

/**
 * What a grant is written into. `kind` picks the planner and the driver (see shared/reconcile/target-kind.ts);
 * `cloud` and `id` name the resource, so kinds that write the same document (a role's trust policy) share one lane.
 */
export type Target =
  /** An IAM role's trust policy, granting IRSA subjects (`system:serviceaccount:<ns>:<sa>`). */
  | { readonly kind: 'aws-role'; readonly cloud: 'aws'; readonly id: string; readonly roleArn: string }
  /** An IAM role's trust policy, granting the Deployment's workload identity role as `Principal.AWS`. */
  | { readonly kind: 'aws-role-principal'; readonly cloud: 'aws'; readonly id: string; readonly roleArn: string }
  /** A Google service account's IAM policy, granting roles/iam.workloadIdentityUser to pool members. */
  | {
      readonly kind: 'gcp-service-account';
      readonly cloud: 'gcp';
      readonly id: string;
      readonly serviceAccount: string;
      /** The pool of the Deployment's primary cluster (a DR cluster's comes with its request). */
      readonly pool: string | undefined;
    }
  /** A Google service account's IAM policy, granting roles/iam.serviceAccountTokenCreator (impersonation). */
  | {
      readonly kind: 'gcp-service-account-token-creator';
      readonly cloud: 'gcp';
      readonly id: string;
      readonly serviceAccount: string;
    }
  /** A Google Cloud project's IAM policy, granting the listed roles to the Deployment's workload identity. */
  | {
      readonly kind: 'gcp-project';
      readonly cloud: 'gcp';
      readonly id: string;
      readonly project: string;
      readonly roles: readonly string[];
    }
  /** A user-assigned managed identity's federated identity credentials. */
  | {
      readonly kind: 'azure-identity';
      readonly cloud: 'azure';
      readonly id: string;
      readonly subscriptionId: string;
      readonly resourceGroup: string;
      readonly identityName: string;
    };

/** Which of a Deployment's clusters a target must trust: its own, and after a failover its secondary (DR) one. */
export type ClusterRole = 'primary' | 'dr';

interface ResolvedTarget {
  readonly target: Target;
  /** Where the target came from: the Deployment's own workload identity, its DR identity, or a config rule. */
  readonly source: string;
  /** Components named by the rule; undefined means the Deployment's defaults. */
  readonly components: readonly string[] | undefined;
  /**
   * Every component list that named this target (the same role can come from the Deployment's own identity and from
   * rules); the grant is their union, so no source loses what it asked for.
   */
  readonly componentSets: ReadonlyArray<readonly string[] | undefined>;
  /** The clusters to trust, primary first: the union of what every source asked for. */
  readonly clusters: readonly ClusterRole[];
  /** Set when the target must not be touched, with the reason a person can act on. */
  readonly denied: string | undefined;
}

type Allowlists = Record<
  'aws' | 'gcp' | 'gcpProject' | 'azure' | 'awsPrincipal' | 'gcpPrincipal',
  (id: string) => boolean
>;

export function createAllowlists(config: Config): Allowlists {
  return {
    aws: createAllowlist(config.aws.allowedRoles),
    gcp: createAllowlist(config.gcp.allowedServiceAccounts),
    gcpProject: createAllowlist(config.gcp.allowedProjects),
    azure: createAllowlist(config.azure.allowedIdentities),
    awsPrincipal: createAllowlist(config.aws.allowedWorkloadIdentityPrincipals),
    gcpPrincipal: createAllowlist(config.gcp.allowedWorkloadIdentityPrincipals),
  };
}

const ARM_IDENTITY =
  /^\/subscriptions\/([0-9a-fA-F-]{36})\/resourceGroups\/([-\w.()]{1,90})\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([a-zA-Z0-9][a-zA-Z0-9_-]{2,127})$/i;

function azureTarget(subscriptionId: string, resourceGroup: string, identityName: string): Target {
  return {
    kind: 'azure-identity',
    cloud: 'azure',
    id: `${subscriptionId}/${resourceGroup}/${identityName}`,
    subscriptionId,
    resourceGroup,
    identityName,
  };
}

function gcpPool(config: Config, deployment: Deployment, rulePool?: string): string | undefined {
  const byCluster = deployment.clusterId === undefined ? undefined : config.gcp.pools.byClusterId[deployment.clusterId];
  const byIssuer =
    deployment.oidcIssuerUrl === undefined ? undefined : config.gcp.pools.byIssuer[deployment.oidcIssuerUrl];
  // A Software cluster's pool is in software.clusters (see software-deployment.ts); it wins over the Hosted defaults.
  return rulePool ?? deployment.software?.pool ?? byCluster ?? byIssuer ?? config.gcp.pools.default;
}

/**
 * The pool of the Deployment's secondary cluster: named by its issuer (the API gives no DR cluster id). No default:
 * the DR cluster may run in another GKE project, and a wrong pool would grant nothing while looking done.
 */
export function drPool(config: Config, deployment: Deployment): string | undefined {
  const issuer = deployment.drOidcIssuerUrl;
  return issuer === undefined ? undefined : config.gcp.pools.byIssuer[issuer];
}

/**
 * A workload identity Astro manages (its default identity), as opposed to a customer's own: one the config allows as
 * a principal. It is never a target itself; rules may grant it on the customer's resources.
 */
export function isAstroManagedIdentity(
  config: Config,
  identity: string,
  allowlists = createAllowlists(config),
): boolean {
  return isRoleArn(identity) ? allowlists.awsPrincipal(identity) : allowlists.gcpPrincipal(identity);
}

/** A Deployment's customer-managed identity (primary or DR), when config lets it name the target. */
function fromWorkloadIdentity(
  config: Config,
  deployment: Deployment,
  identity: string | undefined,
  allowlists: Allowlists,
): Target | undefined {
  if (identity === undefined || isAstroManagedIdentity(config, identity, allowlists)) return undefined;
  if (config.aws.useEffectiveWorkloadIdentity && isRoleArn(identity)) {
    return { kind: 'aws-role', cloud: 'aws', id: identity, roleArn: identity };
  }
  if (config.gcp.useEffectiveWorkloadIdentity && isGcpServiceAccountEmail(identity)) {
    const pool = gcpPool(config, deployment);
    return { kind: 'gcp-service-account', cloud: 'gcp', id: identity, serviceAccount: identity, pool };
  }
  const arm = config.azure.useEffectiveWorkloadIdentity ? ARM_IDENTITY.exec(identity) : null;
  if (arm?.[1] && arm[2] && arm[3]) return azureTarget(arm[1], arm[2], arm[3]);
  return undefined;
}

export function ruleMatches(rule: TargetRule, deployment: Deployment): boolean {
  const { match } = rule;
  const oneOf = <T>(list: readonly T[] | undefined, value: T | undefined) =>
    list === undefined || (value !== undefined && list.includes(value));
  return (
    oneOf(match.workspaceIds, deployment.workspaceId) &&
    oneOf(match.clusterIds, deployment.clusterId) &&
    oneOf(match.cloudProviders, deployment.cloudProvider) &&
    oneOf(match.clusterTypes, deployment.type) &&
    (match.names === undefined || picomatch.isMatch(deployment.name, match.names, { dot: true })) &&
    (match.releaseNames === undefined ||
      (deployment.software !== undefined &&
        picomatch.isMatch(deployment.software.releaseName, match.releaseNames, { dot: true })))
  );
}

function fromRule(config: Config, rule: TargetRule, deployment: Deployment): Target | undefined {
  if (rule.aws) {
    const kind = rule.aws.trust === 'workload-identity' ? 'aws-role-principal' : 'aws-role';
    return { kind, cloud: 'aws', id: rule.aws.roleArn, roleArn: rule.aws.roleArn };
  }
  if (rule.gcp?.project !== undefined) {
    const { project, roles = [] } = rule.gcp;
    return { kind: 'gcp-project', cloud: 'gcp', id: project, project, roles: [...roles].sort() };
  }
  if (rule.gcp?.serviceAccount !== undefined) {
    const { serviceAccount } = rule.gcp;
    if (rule.gcp.grant === 'token-creator') {
      return { kind: 'gcp-service-account-token-creator', cloud: 'gcp', id: serviceAccount, serviceAccount };
    }
    const pool = gcpPool(config, deployment, rule.gcp.pool);
    return { kind: 'gcp-service-account', cloud: 'gcp', id: serviceAccount, serviceAccount, pool };
  }
  if (rule.azure) return azureTarget(rule.azure.subscriptionId, rule.azure.resourceGroup, rule.azure.identityName);
  return undefined;
}

interface Found {
  readonly target: Target;
  readonly source: string;
  readonly components: readonly string[] | undefined;
  readonly clusters: readonly ClusterRole[];
}

/**
 * Every target a Deployment must be authorized on, deduplicated by kind and resource, each checked against its
 * allowlist. A denied target is returned (so it can be reported) but carries `denied` and must never be read or
 * written. The Deployment's own identity trusts its primary cluster; its DR identity, when it is a customer identity,
 * the secondary cluster; a rule's target both (or the primary alone with `dr: primary`).
 */
export function resolveTargets(
  config: Config,
  deployment: Deployment,
  allowlists = createAllowlists(config),
): ResolvedTarget[] {
  const found: Found[] = [];
  const own = fromWorkloadIdentity(config, deployment, deployment.effectiveWorkloadIdentity, allowlists);
  if (own !== undefined) {
    found.push({ target: own, source: 'effectiveWorkloadIdentity', components: undefined, clusters: ['primary'] });
  }
  if (deployment.drOidcIssuerUrl !== undefined) {
    const dr = fromWorkloadIdentity(config, deployment, deployment.effectiveDRWorkloadIdentity, allowlists);
    if (dr !== undefined) {
      found.push({ target: dr, source: 'effectiveDRWorkloadIdentity', components: undefined, clusters: ['dr'] });
    }
  }
  config.targets.forEach((rule, index) => {
    if (!ruleMatches(rule, deployment)) return;
    const target = fromRule(config, rule, deployment);
    if (target === undefined) return;
    const clusters: ClusterRole[] = rule.dr === 'primary' ? ['primary'] : ['primary', 'dr'];
    found.push({ target, source: `rule ${rule.name ?? `#${index}`}`, components: rule.components, clusters });
  });

  const byKey = new Map<string, ResolvedTarget>();
  for (const entry of found) {
    const key = `${entry.target.kind}|${entry.target.id}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, {
        ...entry,
        componentSets: [entry.components],
        denied: denial(config, entry.target, allowlists),
      });
      continue;
    }
    const clusters = (['primary', 'dr'] as const).filter(
      (c) => seen.clusters.includes(c) || entry.clusters.includes(c),
    );
    const target =
      seen.target.kind === 'gcp-project' && entry.target.kind === 'gcp-project'
        ? { ...seen.target, roles: [...new Set([...seen.target.roles, ...entry.target.roles])].sort() }
        : seen.target;
    byKey.set(key, {
      ...seen,
      target,
      clusters,
      componentSets: [...seen.componentSets, entry.components],
      denied: denial(config, target, allowlists),
    });
  }
  return [...byKey.values()];
}

const SETTING: Record<Target['kind'], string> = {
  'aws-role': 'aws.allowedRoles',
  'aws-role-principal': 'aws.allowedRoles',
  'gcp-service-account': 'gcp.allowedServiceAccounts',
  'gcp-service-account-token-creator': 'gcp.allowedServiceAccounts',
  'gcp-project': 'gcp.allowedProjects',
  'azure-identity': 'azure.allowedIdentities',
};

function denial(config: Config, target: Target, allowlists: Allowlists): string | undefined {
  const allowed =
    target.kind === 'gcp-project' ? allowlists.gcpProject(target.id) : allowlists[target.cloud](target.id);
  if (!allowed) return `${target.id} is not in ${SETTING[target.kind]}; add it there to let this tool manage it`;
  if (target.kind === 'gcp-service-account' && target.pool === undefined) {
    return 'no workload identity pool is configured for this cluster; set gcp.pools.byClusterId, gcp.pools.byIssuer or gcp.pools.default';
  }
  if (target.kind === 'gcp-project') {
    const notListed = target.roles.filter((role) => !config.gcp.allowedProjectRoles.includes(role));
    if (notListed.length > 0) {
      return `${notListed.join(', ')} ${notListed.length === 1 ? 'is' : 'are'} not in gcp.allowedProjectRoles; list the roles a project target may grant`;
    }
  }
  const principalSetting =
    target.kind === 'aws-role-principal'
      ? config.aws.allowedWorkloadIdentityPrincipals
      : target.kind === 'gcp-project' || target.kind === 'gcp-service-account-token-creator'
        ? config.gcp.allowedWorkloadIdentityPrincipals
        : undefined;
  if (principalSetting !== undefined && principalSetting.length === 0) {
    const setting = target.cloud === 'aws' ? 'aws' : 'gcp';
    return `trusting a Deployment's workload identity is off: list Astro's identities in ${setting}.allowedWorkloadIdentityPrincipals`;
  }
  return undefined;
}
