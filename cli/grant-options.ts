import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  assertAirflowVersion,
  assertKnownComponents,
  assertRuntimeVersion,
  DEFAULT_COMPONENT_TABLE,
} from '../shared/plan/components.ts';
import { assertNamespace } from '../shared/plan/guardrails.ts';
import { type DesiredGrant, desiredGrant, type WildcardRequest, wildcardApplies } from '../shared/plan/subjects.ts';

/** Flags that decide which service accounts a Deployment needs; shared by `subjects` and every `plan`. */
export interface GrantFlags {
  namespace: string;
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
    .requiredOption('--namespace <ns>', "the Deployment's Kubernetes namespace")
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
  assertNamespace(flags.namespace, '--namespace');
  if (flags.airflowVersion !== undefined) assertAirflowVersion(flags.airflowVersion, '--airflow-version');
  if (flags.runtimeVersion !== undefined) assertRuntimeVersion(flags.runtimeVersion, '--runtime-version');
  if (flags.components !== undefined) assertKnownComponents(flags.components, DEFAULT_COMPONENT_TABLE, '--components');
  const wildcard: WildcardRequest = {
    requested: flags.wildcard === true,
    clusterType: flags.clusterType,
    strict: true,
  };
  if (options.allowWildcard) wildcardApplies(wildcard, '--wildcard');
  return desiredGrant({
    namespace: flags.namespace,
    selection: {
      airflowVersion: flags.airflowVersion,
      astroRuntimeVersion: flags.runtimeVersion,
      remoteExecution: flags.remoteExecution,
      components: flags.components,
    },
    ...(options.allowWildcard ? { wildcard } : {}),
  });
}
