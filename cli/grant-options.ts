import { type Command, InvalidArgumentError, Option } from 'commander';
import { ValidationError } from '../shared/errors.ts';
import {
  assertAirflowVersion,
  assertKnownComponents,
  assertRuntimeVersion,
  DEFAULT_COMPONENT_TABLE,
} from '../shared/plan/components.ts';
import { assertNamespace } from '../shared/plan/guardrails.ts';
import { assertReleaseName, DEFAULT_SOFTWARE_COMPONENT_TABLE } from '../shared/plan/software-names.ts';
import { type DesiredGrant, desiredGrant, type WildcardRequest, wildcardApplies } from '../shared/plan/subjects.ts';

/** Flags that decide which service accounts a Deployment needs; shared by `subjects` and every `plan`. */
export interface GrantFlags {
  /** Required on Astro Hosted; on Software it defaults to `astronomer-<release>`. */
  namespace?: string;
  platform?: 'hosted' | 'software';
  release?: string;
  airflowVersion?: string;
  runtimeVersion?: string;
  remoteExecution?: boolean;
  components?: string[];
  wildcard?: boolean;
  clusterType?: 'DEDICATED' | 'STANDARD' | 'HYBRID';
}

/** Shown after the options of every command that takes the mode flags, and after `plan --help`. */
export const VERSION_HELP = `
Airflow version: --airflow-version (2, 3, 2.10.3: a bare major is enough), else
--runtime-version (12, 12.1.0, 3.0-1), picks the Airflow 2 or 3 service
accounts; Airflow 3 when neither is given. Airflow 1 is refused.

Astronomer Software (--platform software --release <release>): the Airflow
chart's names, <fullname>-<component> with <fullname> = <release>-airflow
unless the release name contains "airflow" (api-server on Airflow 3, no kpo).
The namespace defaults to astronomer-<release>; give --namespace when yours
differs (pre-created namespaces, another platform namespace). Older platforms
and bring-your-own service accounts use other names: set them in the config's
software.components.serviceAccounts.
`;

export function positiveInt(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a positive whole number');
  return Number(value);
}

function componentList(value: string): string[] {
  const list = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('expected a comma-separated list such as scheduler,worker');
  return list;
}

export function addGrantOptions(command: Command, options: { wildcard: boolean }): Command {
  command
    .option('--namespace <ns>', "the Deployment's Kubernetes namespace (required on Astro Hosted)")
    .addOption(
      new Option('--platform <platform>', 'Astro Hosted, or Astronomer Software (self-hosted)')
        .choices(['hosted', 'software'])
        .default('hosted'),
    )
    .option('--release <name>', "the Software Deployment's Helm release name, e.g. solar-orbit-4143")
    .option('--airflow-version <version>', 'Airflow version, e.g. 2, 3, 2.10.3 (default: Airflow 3)')
    .option(
      '--runtime-version <version>',
      'Astro Runtime version, e.g. 12, 12.1.0, 3.0-1; used without --airflow-version',
    )
    .option('--remote-execution', 'a Remote Execution Deployment (apiserver and scheduler only)')
    .option(
      '--components <list>',
      'explicit components, comma-separated (overrides the version defaults)',
      componentList,
    );
  if (options.wildcard) {
    command
      .option('--wildcard', 'grant system:serviceaccount:<ns>:* (DEDICATED clusters only)')
      .addOption(new Option('--cluster-type <type>', 'the cluster type').choices(['DEDICATED', 'STANDARD', 'HYBRID']));
  }
  return command.addHelpText('after', VERSION_HELP);
}

/**
 * The grant the flags describe. Every flag is checked here first, under its own name, so an error says
 * `--namespace: ...` rather than the core's field name; and unlike a Deployment from the API, a version a person typed
 * must be one this tool understands, or the default would hide the typo.
 */
export function grantFrom(
  flags: GrantFlags,
  options: { allowWildcard: boolean } = { allowWildcard: false },
): DesiredGrant {
  const software = flags.platform === 'software';
  if (software && flags.release === undefined) {
    throw new ValidationError('Astronomer Software names service accounts after the Helm release: give --release', {
      field: '--release',
    });
  }
  if (!software && flags.release !== undefined) {
    throw new ValidationError('--release is for --platform software; Astro Hosted names accounts by namespace', {
      field: '--release',
    });
  }
  if (flags.release !== undefined) assertReleaseName(flags.release, '--release');
  const namespace = flags.namespace ?? (software ? `astronomer-${flags.release}` : undefined);
  if (namespace === undefined) throw new ValidationError('is required', { field: '--namespace' });
  assertNamespace(namespace, '--namespace');
  const table = software ? DEFAULT_SOFTWARE_COMPONENT_TABLE : DEFAULT_COMPONENT_TABLE;
  if (flags.airflowVersion !== undefined) assertAirflowVersion(flags.airflowVersion, '--airflow-version');
  if (flags.runtimeVersion !== undefined) assertRuntimeVersion(flags.runtimeVersion, '--runtime-version');
  if (flags.components !== undefined) assertKnownComponents(flags.components, table, '--components');
  const wildcard: WildcardRequest = {
    requested: flags.wildcard === true,
    clusterType: flags.clusterType,
    strict: true,
  };
  if (options.allowWildcard) wildcardApplies(wildcard, '--wildcard');
  return desiredGrant({
    namespace,
    table,
    release: flags.release,
    selection: {
      airflowVersion: flags.airflowVersion,
      astroRuntimeVersion: flags.runtimeVersion,
      remoteExecution: flags.remoteExecution,
      components: flags.components,
    },
    ...(options.allowWildcard ? { wildcard } : {}),
  });
}
