import picomatch from 'picomatch';
import type { Config, TargetRule } from '../config.ts';
import type { Deployment } from '../intake/deployment.ts';
import { createAllowlist, isGcpServiceAccountEmail, isRoleArn } from './guardrails.ts';

/**
 * What a grant is written into. `kind` picks the planner and the driver (see shared/reconcile/target-kind.ts);
 * `cloud` and `id` name the resource, so kinds that write the same document share one lane.
 */
export type Target =
  /** An IAM role's trust policy, granting IRSA subjects (`system:serviceaccount:<ns>:<sa>`). */
  | { readonly kind: 'aws-role'; readonly cloud: 'aws'; readonly id: string; readonly roleArn: string }
  /** A Google service account's IAM policy, granting roles/iam.workloadIdentityUser to pool members. */
  | {
      readonly kind: 'gcp-service-account';
      readonly cloud: 'gcp';
      readonly id: string;
      readonly serviceAccount: string;
      readonly pool: string | undefined;
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

interface ResolvedTarget {
  readonly target: Target;
  /** Where the target came from: the Deployment's own workload identity, or a config rule. */
  readonly source: string;
  /** Components named by the rule; undefined means the Deployment's defaults. */
  readonly components: readonly string[] | undefined;
  /**
   * Every component list that named this target (the same role can come from the Deployment's own identity and from
   * rules); the grant is their union, so no source loses what it asked for.
   */
  readonly componentSets: ReadonlyArray<readonly string[] | undefined>;
  /** Set when the target must not be touched, with the reason a person can act on. */
  readonly denied: string | undefined;
}

type Allowlists = Record<Target['cloud'], (id: string) => boolean>;

export function createAllowlists(config: Config): Allowlists {
  return {
    aws: createAllowlist(config.aws.allowedRoles),
    gcp: createAllowlist(config.gcp.allowedServiceAccounts),
    azure: createAllowlist(config.azure.allowedIdentities),
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

function awsRole(roleArn: string): Target {
  return { kind: 'aws-role', cloud: 'aws', id: roleArn, roleArn };
}

function gcpServiceAccount(serviceAccount: string, pool: string | undefined): Target {
  return { kind: 'gcp-service-account', cloud: 'gcp', id: serviceAccount, serviceAccount, pool };
}

function gcpPool(config: Config, deployment: Deployment, rulePool?: string): string | undefined {
  const byCluster = deployment.clusterId === undefined ? undefined : config.gcp.pools.byClusterId[deployment.clusterId];
  return rulePool ?? byCluster ?? config.gcp.pools.default;
}

/** The Deployment's own customer-managed identity, when config lets it name the target. */
function fromWorkloadIdentity(config: Config, deployment: Deployment): Target | undefined {
  const identity = deployment.effectiveWorkloadIdentity;
  if (identity === undefined) return undefined;
  if (config.aws.useEffectiveWorkloadIdentity && isRoleArn(identity)) return awsRole(identity);
  if (config.gcp.useEffectiveWorkloadIdentity && isGcpServiceAccountEmail(identity)) {
    return gcpServiceAccount(identity, gcpPool(config, deployment));
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
    (match.names === undefined || picomatch.isMatch(deployment.name, match.names, { dot: true }))
  );
}

function fromRule(config: Config, rule: TargetRule, deployment: Deployment): Target | undefined {
  if (rule.aws) return awsRole(rule.aws.roleArn);
  if (rule.gcp) return gcpServiceAccount(rule.gcp.serviceAccount, gcpPool(config, deployment, rule.gcp.pool));
  if (rule.azure) return azureTarget(rule.azure.subscriptionId, rule.azure.resourceGroup, rule.azure.identityName);
  return undefined;
}

/**
 * Every target a Deployment must be authorized on, deduplicated, each checked against its cloud's allowlist. A
 * denied target is returned (so it can be reported) but carries `denied` and must never be read or written.
 */
export function resolveTargets(
  config: Config,
  deployment: Deployment,
  allowlists = createAllowlists(config),
): ResolvedTarget[] {
  const found: Array<{ target: Target; source: string; components: readonly string[] | undefined }> = [];
  const own = fromWorkloadIdentity(config, deployment);
  if (own !== undefined) found.push({ target: own, source: 'effectiveWorkloadIdentity', components: undefined });
  config.targets.forEach((rule, index) => {
    if (!ruleMatches(rule, deployment)) return;
    const target = fromRule(config, rule, deployment);
    if (target !== undefined)
      found.push({ target, source: `rule ${rule.name ?? `#${index}`}`, components: rule.components });
  });

  const byKey = new Map<string, ResolvedTarget>();
  for (const entry of found) {
    const key = `${entry.target.cloud}|${entry.target.id}`;
    const seen = byKey.get(key);
    if (seen !== undefined) {
      byKey.set(key, { ...seen, componentSets: [...seen.componentSets, entry.components] });
      continue;
    }
    byKey.set(key, { ...entry, componentSets: [entry.components], denied: denial(entry.target, allowlists) });
  }
  return [...byKey.values()];
}

function denial(target: Target, allowlists: Allowlists): string | undefined {
  if (!allowlists[target.cloud](target.id)) {
    const setting = { aws: 'aws.allowedRoles', gcp: 'gcp.allowedServiceAccounts', azure: 'azure.allowedIdentities' }[
      target.cloud
    ];
    return `${target.id} is not in ${setting}; add it there to let this tool manage it`;
  }
  if (target.cloud === 'gcp' && target.pool === undefined) {
    return 'no workload identity pool is configured for this cluster; set gcp.pools.byClusterId or gcp.pools.default';
  }
  return undefined;
}
