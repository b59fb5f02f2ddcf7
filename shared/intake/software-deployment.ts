import { ValidationError } from '../errors.ts';
import { assertIssuer, assertNamespace } from '../plan/guardrails.ts';
import { assertReleaseName, softwareNamespace } from '../plan/software-names.ts';
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
    updatedAt: houston.updatedAt,
  };
}
