import { RequestRejectedError } from '../../shared/errors.ts';
import type { DeploymentSource } from './deployment-lookup.ts';
import type { SoftwareSource } from './software-source.ts';

/**
 * One source of truth per platform, chosen by the event's organization: `software:<base domain>` is Houston, any
 * other id the Astro API. An event for a platform this function has no API for is refused (never planned from the
 * payload), so a signed payload cannot pick a Software namespace or a Hosted one by naming the other platform.
 */
export function platformSource(
  astro: DeploymentSource | undefined,
  software: SoftwareSource | undefined,
): DeploymentSource | undefined {
  if (software === undefined) return astro;
  const missing = (organizationId: string) =>
    new RequestRejectedError(
      'invalid_input',
      `organization ${organizationId} is an Astro Hosted organization, and this function has no "astro" section to read it from`,
    );
  const isSoftware = (organizationId: string) => organizationId === software.organizationId;
  return {
    get(organizationId, deploymentId) {
      if (isSoftware(organizationId)) return software.get(deploymentId);
      if (astro === undefined) return Promise.reject(missing(organizationId));
      return astro.get(organizationId, deploymentId);
    },
    list(organizationId) {
      if (isSoftware(organizationId)) return software.list();
      if (astro === undefined) return Promise.reject(missing(organizationId));
      return astro.list(organizationId);
    },
  };
}
