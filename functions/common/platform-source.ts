import type { DeploymentSource, SourceFor } from './deployment-lookup.ts';
import type { SoftwareSource } from './software-source.ts';

/**
 * One source of truth per platform, chosen by the event's organization: `software:<base domain>` is Houston, any
 * other id the Astro API. A Software event without Houston is refused in lookupDeployments (its names need the
 * release only Houston knows); a Hosted one without the astro section is planned from its signed payload, as ever.
 */
export function platformSource(
  astro: DeploymentSource | undefined,
  software: SoftwareSource | undefined,
): DeploymentSource | undefined | SourceFor {
  if (software === undefined) return astro;
  const houston: DeploymentSource = {
    get: (_organizationId, deploymentId) => software.get(deploymentId),
    list: () => software.list(),
  };
  // A Hosted organization without the astro section: its events are planned from the signed payload, as before.
  return (organizationId) => (organizationId === software.organizationId ? houston : astro);
}
