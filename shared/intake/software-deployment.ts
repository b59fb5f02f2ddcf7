import type { SoftwareConfig } from '../config-software.ts';
import { ValidationError } from '../errors.ts';
import { assertIssuer, assertNamespace } from '../plan/guardrails.ts';
import { assertReleaseName, softwareNamespace } from '../plan/software-names.ts';
import type { Deployment } from './deployment.ts';
import type { HoustonDeployment } from './houston-api.ts';

/** One Software cluster: the issuer (EKS / AKS) or workload identity pool (GKE) its service accounts present. */
export interface SoftwareCluster {
  readonly oidcIssuerUrl?: string | undefined;
  readonly pool?: string | undefined;
  readonly cloudProvider?: 'AWS' | 'AZURE' | 'GCP' | undefined;
}

export interface SoftwareSettings {
  /** `{platformNamespace}` in the template: the namespace the platform itself runs in (default astronomer). */
  readonly platformNamespace: string;
  /** Used only when Houston does not say: `{platformNamespace}-{release}` by default. */
  readonly namespaceTemplate: string;
  /** By Houston cluster id, or `default` for a Deployment without one (Houston before 1.0, one cluster). */
  readonly clusters: Readonly<Record<string, SoftwareCluster>>;
}

/** A Software Deployment as the pipeline plans it: the namespace, release and cluster are settled here. */
export interface SoftwareDeployment {
  readonly id: string;
  readonly name: string;
  readonly releaseName: string;
  readonly namespace: string;
  /** Where the namespace came from: Houston's own answer, or the configured template (older Houston). */
  readonly namespaceSource: 'houston' | 'template';
  readonly workspaceId: string | undefined;
  readonly workspaceName: string | undefined;
  readonly clusterId: string | undefined;
  readonly cluster: SoftwareCluster;
  readonly airflowVersion: string | undefined;
  readonly runtimeVersion: string | undefined;
  readonly createdAt: string | undefined;
  readonly updatedAt: string | undefined;
}

/**
 * Settles what Houston does not always say. The namespace is data when Houston gives it (pre-created and manually
 * named namespaces exist), and only otherwise the template; the cluster's issuer or pool always comes from config,
 * since Houston does not know the cloud side of its clusters. Every value passes the same guardrails as Hosted.
 */
export function softwareDeployment(houston: HoustonDeployment, settings: SoftwareSettings): SoftwareDeployment {
  const releaseName = assertReleaseName(houston.releaseName, 'releaseName');
  const namespace =
    houston.namespace === undefined
      ? softwareNamespace(settings.namespaceTemplate, { platform: settings.platformNamespace, release: releaseName })
      : assertNamespace(houston.namespace, 'namespace');
  const key =
    houston.clusterId !== undefined && Object.hasOwn(settings.clusters, houston.clusterId)
      ? houston.clusterId
      : 'default';
  const cluster = Object.hasOwn(settings.clusters, key) ? settings.clusters[key] : undefined;
  if (cluster === undefined) {
    throw new ValidationError(
      `Deployment ${houston.label} (${releaseName}) runs on cluster ${houston.clusterId ?? '(none named)'}, which software.clusters does not list and no default covers: add its oidcIssuerUrl or pool`,
      { field: 'software.clusters', code: 'invalid_config' },
    );
  }
  if (cluster.oidcIssuerUrl !== undefined) assertIssuer(cluster.oidcIssuerUrl);
  return {
    id: houston.id,
    name: houston.label,
    releaseName,
    namespace,
    namespaceSource: houston.namespace === undefined ? 'template' : 'houston',
    workspaceId: houston.workspace?.id,
    workspaceName: houston.workspace?.label,
    clusterId: houston.clusterId,
    cluster,
    airflowVersion: houston.airflowVersion,
    runtimeVersion: houston.runtimeVersion,
    createdAt: houston.createdAt,
    updatedAt: houston.updatedAt,
  };
}

/** Where Software Deployments sit among organizations: one platform, named by its base domain. */
export function softwareOrganization(baseDomain: string): string {
  return `software:${baseDomain}`;
}

/**
 * The Deployment the pipeline plans: the Hosted shape, with the release (for the chart's names) and the cluster's
 * pool in `software`. Software has no cluster types; a rule that matches on clusterTypes never matches it.
 */
export function toPipelineDeployment(deployment: SoftwareDeployment, baseDomain: string): Deployment {
  return {
    id: deployment.id,
    name: deployment.name,
    namespace: deployment.namespace,
    organizationId: softwareOrganization(baseDomain),
    workspaceId: deployment.workspaceId,
    workspaceName: deployment.workspaceName,
    clusterId: deployment.clusterId,
    clusterName: undefined,
    cloudProvider: deployment.cluster.cloudProvider,
    region: undefined,
    type: undefined,
    airflowVersion: deployment.airflowVersion,
    astroRuntimeVersion: deployment.runtimeVersion,
    remoteExecution: undefined,
    status: undefined,
    createdAt: deployment.createdAt,
    updatedAt: deployment.updatedAt,
    oidcIssuerUrl: deployment.cluster.oidcIssuerUrl,
    effectiveWorkloadIdentity: undefined,
    drOidcIssuerUrl: undefined,
    effectiveDRWorkloadIdentity: undefined,
    releaseName: deployment.releaseName,
    software: { releaseName: deployment.releaseName, pool: deployment.cluster.pool },
  };
}

/**
 * A Software event sent inline, when no Houston token is configured: the signed payload names the release and the
 * namespace (as a Hosted payload does without the astro section), but the cluster's issuer or pool still comes from
 * software.clusters, never from the payload, and the organization must be this platform's.
 */
export function inlineSoftwareDeployment(deployment: Deployment, config: SoftwareConfig): Deployment {
  const organizationId = softwareOrganization(config.baseDomain);
  if (deployment.organizationId !== organizationId) {
    throw new ValidationError(`data.deployment.organizationId must be ${organizationId}, the configured platform`, {
      field: 'data.deployment.organizationId',
    });
  }
  if (deployment.releaseName === undefined) {
    throw new ValidationError(
      'a Software Deployment sent inline needs data.deployment.releaseName (its Helm release), or configure software.token',
      { field: 'data.deployment.releaseName' },
    );
  }
  const settled = softwareDeployment(
    {
      id: deployment.id,
      label: deployment.name,
      releaseName: deployment.releaseName,
      namespace: deployment.namespace,
      clusterId: deployment.clusterId,
      workspace:
        deployment.workspaceId === undefined
          ? undefined
          : { id: deployment.workspaceId, label: deployment.workspaceName },
      runtimeVersion: deployment.astroRuntimeVersion,
      airflowVersion: deployment.airflowVersion,
      createdAt: deployment.createdAt,
      updatedAt: deployment.updatedAt,
    },
    config,
  );
  return toPipelineDeployment(settled, config.baseDomain);
}
