import { awsAdapter } from '../functions/aws/aws-adapter.ts';
import { azureAdapter } from '../functions/azure/azure-adapter.ts';
import { createAstroClient } from '../functions/common/astro-client.ts';
import type { CloudAdapter } from '../functions/common/cloud-adapter.ts';
import type { Env, Settings } from '../functions/common/env-settings.ts';
import { createHoustonClient, houstonUrl } from '../functions/common/houston-client.ts';
import { createSoftwareSource } from '../functions/common/software-source.ts';
import { gcpAdapter } from '../functions/gcp/gcp-adapter.ts';
import type { Config } from '../shared/config.ts';
import { ValidationError } from '../shared/errors.ts';
import type { Deployment } from '../shared/intake/deployment.ts';
import { type TargetRegistration, TargetRegistry } from '../shared/reconcile/target-kind.ts';
import type { CliIo } from './cli-io.ts';

/** What `sync` and `audit` read with this machine's credentials: the Deployments, and the targets' drivers. */

/** Which Deployments: one by id, or every one in scope; from the Astro API or from Houston. */
export interface DeploymentFlags {
  deployment?: string;
  platform?: 'hosted' | 'software';
}

/**
 * Drivers for the clouds the config manages, with this workstation's credentials: the AWS default chain, Google
 * Application Default Credentials, and Azure's DefaultAzureCredential (which includes `az login`). A cloud with an
 * empty allowlist is skipped, so no credentials are needed for it.
 */
export function workstationTargets(config: Config, settings: Settings): TargetRegistry {
  return new TargetRegistry([
    ...registrationsOf(awsAdapter, settings, config, config.aws.allowedRoles.length > 0),
    ...registrationsOf(
      gcpAdapter,
      settings,
      config,
      config.gcp.allowedServiceAccounts.length + config.gcp.allowedProjects.length > 0,
    ),
    ...registrationsOf(azureAdapter, settings, config, config.azure.allowedIdentities.length > 0),
  ]);
}

/** The same target kinds the functions register, bound to clients made with this machine's credentials. */
function registrationsOf<Clients>(
  adapter: CloudAdapter<Clients>,
  settings: Settings,
  config: Config,
  enabled: boolean,
): readonly TargetRegistration[] {
  return enabled ? adapter.targets(adapter.clients(settings), config) : [];
}

function tokenFrom(ref: string, env: Env, field = 'astro.token'): string {
  const value = ref.startsWith('env:') ? env[ref.slice(4)] : undefined;
  if (!value)
    throw new ValidationError(`set the environment variable ${ref.slice(4)} (the CLI reads env: references only)`, {
      field,
    });
  return value;
}

async function hostedDeployments(
  config: Config,
  settings: Settings,
  flags: DeploymentFlags,
  env: Env,
  io: CliIo,
): Promise<readonly Deployment[]> {
  const settingsOf = config.astro;
  if (settingsOf === undefined) return [];
  const astro = createAstroClient({
    baseUrl: settings.astro.baseUrl ?? settingsOf.baseUrl,
    ...(settings.astro.retryMinMs === undefined ? {} : { minTimeoutMs: settings.astro.retryMinMs }),
    pageSize: settingsOf.pageSize,
    requestsPerSecond: settingsOf.requestsPerSecond,
    token: tokenFrom(settingsOf.token, env),
  });
  const org = settingsOf.organizationId;
  const scope = settingsOf.workspaceIds ? { workspaceIds: [...settingsOf.workspaceIds] } : {};
  return oneOrAll(
    { get: (id) => astro.get(org, id), list: () => astro.list(org, scope) },
    'the Astro API does not know',
    flags,
    io,
  );
}

/** The `--deployment` asked for, or every one listed (what could not be read is said and skipped). */
async function oneOrAll(
  source: {
    get(id: string): Promise<Deployment | undefined>;
    list(): Promise<{ deployments: readonly Deployment[]; invalid: ReadonlyArray<{ id?: string; reason: string }> }>;
  },
  unknown: string,
  flags: DeploymentFlags,
  io: CliIo,
): Promise<readonly Deployment[]> {
  if (flags.deployment !== undefined) {
    const found = await source.get(flags.deployment);
    if (found === undefined)
      throw new ValidationError(`${unknown} Deployment ${flags.deployment}`, { field: '--deployment' });
    return [found];
  }
  const listed = await source.list();
  for (const bad of listed.invalid) io.stderr(`skipped ${bad.id ?? 'a Deployment'}: ${bad.reason}\n`);
  return listed.deployments;
}

/** Astronomer Software: the same backfill, from Houston, within software.workspaceIds. */
async function softwareDeployments(
  config: Config,
  settings: Settings,
  flags: DeploymentFlags,
  env: Env,
  io: CliIo,
): Promise<readonly Deployment[]> {
  const softwareConfig = config.software;
  if (softwareConfig?.token === undefined) return [];
  const client = createHoustonClient({
    url: settings.houstonUrl ?? houstonUrl(softwareConfig.baseDomain),
    token: tokenFrom(softwareConfig.token, env, 'software.token'),
    ...(settings.astro.retryMinMs === undefined ? {} : { minTimeoutMs: settings.astro.retryMinMs }),
  });
  const source = createSoftwareSource(client, softwareConfig);
  const found = await oneOrAll(source, 'Houston does not list', flags, io);
  // Houston lists every workspace the token sees; one asked for by id is taken as asked.
  const scope = softwareConfig.workspaceIds;
  if (flags.deployment !== undefined || scope === undefined) return found;
  return found.filter((d) => d.workspaceId !== undefined && scope.includes(d.workspaceId));
}

/** The Deployments a workstation command works on, as the functions would see them. */
export function workstationDeployments(
  config: Config,
  settings: Settings,
  flags: DeploymentFlags,
  env: Env,
  io: CliIo,
): Promise<readonly Deployment[]> {
  return flags.platform === 'software'
    ? softwareDeployments(config, settings, flags, env, io)
    : hostedDeployments(config, settings, flags, env, io);
}
