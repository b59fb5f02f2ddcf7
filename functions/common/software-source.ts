import type { SoftwareConfig } from '../../shared/config-software.ts';
import { IdentitySyncError, ValidationError } from '../../shared/errors.ts';
import type { Deployment } from '../../shared/intake/deployment.ts';
import {
  softwareDeployment,
  softwareOrganization,
  toPipelineDeployment,
} from '../../shared/intake/software-deployment.ts';
import type { DeploymentList } from '../../shared/reconcile/sweep.ts';
import type { HoustonClient, HoustonListOptions } from './houston-client.ts';

/** Astronomer Software's Deployments as the poller and the sweep read them. */
export interface SoftwareSource {
  /** The organization id Software Deployments carry (`software:<base domain>`), which routes events here. */
  readonly organizationId: string;
  list(options?: HoustonListOptions): Promise<DeploymentList>;
  /** One Deployment by its Houston id; undefined when Houston does not list it (deleted, or never was). */
  get(id: string): Promise<Deployment | undefined>;
}

/**
 * Houston's list, settled into pipeline Deployments: the namespace Houston gives (else the template), the cluster's
 * issuer or pool from config, the chart's names by release. A Deployment that cannot be settled (an unknown cluster,
 * an invalid namespace) is reported by id and planned for nobody, never guessed.
 *
 * Houston pages by cursor over ids, which an update does not reorder; the list is complete once it reached a short
 * page with every entry named. The sweep reads it twice around the targets (see stale-cleanup.ts), which covers a
 * Deployment created in between.
 */
/** Every Deployment the token sees: the poller and the sweep apply software.workspaceIds (see sweep.ts). */
export function createSoftwareSource(client: HoustonClient, config: SoftwareConfig): SoftwareSource {
  const settings = {
    platformNamespace: config.platformNamespace,
    namespaceTemplate: config.namespaceTemplate,
    clusters: config.clusters,
  };
  async function list(options: HoustonListOptions = {}): Promise<DeploymentList> {
    {
      const listed = await client.list(options);
      const deployments: Deployment[] = [];
      const invalid = [...listed.invalid];
      for (const houston of listed.deployments) {
        try {
          deployments.push(toPipelineDeployment(softwareDeployment(houston, settings), config.baseDomain));
        } catch (error) {
          const reason = error instanceof IdentitySyncError ? error.message : String(error);
          invalid.push({ id: houston.id, reason });
        }
      }
      const complete = invalid.every((entry) => entry.id !== undefined);
      return { deployments, invalid, complete };
    }
  }
  return {
    organizationId: softwareOrganization(config.baseDomain),
    list,
    async get(id) {
      const listed = await list();
      const found = listed.deployments.find((deployment) => deployment.id === id);
      if (found !== undefined) return found;
      // Listed but not settled (an unknown cluster, a bad namespace): say why rather than "unknown".
      const refused = listed.invalid.find((entry) => entry.id === id);
      if (refused !== undefined) throw new ValidationError(refused.reason, { field: 'software' });
      return undefined;
    },
  };
}
