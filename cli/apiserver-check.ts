import { type Config, componentTableFrom } from '../shared/config.ts';
import type { Deployment } from '../shared/intake/deployment.ts';
import { DEFAULT_SERVICE_ACCOUNTS, selectComponents } from '../shared/plan/components.ts';

/** Said under `subjects --help`: the one service-account name no public Astronomer source confirms. */
export const APISERVER_HELP = `
The Airflow 3 API server's service account (<ns>-apiserver-serviceaccount) is
not named in any public Astronomer source. Compare it with the commands the
Astro UI shows for the Deployment (Details > Workload Identity) and, if it
differs, set components.serviceAccounts.apiserver in the config.
`;

/**
 * One shell line a person can run to compare our subjects for a Deployment with those in the commands the Astro UI
 * shows (pasted into a file): an empty diff means the unconfirmed apiserver name is right. Undefined when no
 * Deployment uses the API server, or the config already names its account (someone has checked).
 */
export function apiserverCheck(config: Config, deployments: readonly Deployment[]): string | undefined {
  const table = componentTableFrom(config);
  if (table.serviceAccounts.apiserver !== DEFAULT_SERVICE_ACCOUNTS.apiserver) return undefined;
  const uses = deployments.find((deployment) => {
    try {
      return selectComponents(
        {
          airflowVersion: deployment.airflowVersion,
          astroRuntimeVersion: deployment.astroRuntimeVersion,
          remoteExecution: deployment.remoteExecution?.enabled,
        },
        table,
      ).includes('apiserver');
    } catch {
      return false; // an Airflow 1 Deployment is reported by the sync itself
    }
  });
  if (uses === undefined) return undefined;
  const ns = uses.namespace;
  const mode = uses.remoteExecution?.enabled === true ? '--remote-execution' : '--airflow-version 3';
  return (
    `check: the API server's service account name is unconfirmed; paste the Astro UI's workload identity commands for ` +
    `${uses.name} into ui.txt and run: astro-identity-sync subjects --namespace ${ns} ${mode} ` +
    `| diff - <(grep -o 'system:serviceaccount:${ns}:[a-z0-9-]*' ui.txt | sort -u)`
  );
}
