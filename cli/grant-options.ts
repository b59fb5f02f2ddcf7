import { type Command, InvalidArgumentError, Option } from 'commander';
import { type DesiredGrant, desiredGrant } from '../shared/plan/subjects.ts';

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
    .option('--airflow-version <version>', 'Airflow version, e.g. 2.10.3 or 3.0.2 (default: Airflow 3)')
    .option('--runtime-version <version>', 'Astro Runtime version, used when --airflow-version is absent')
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
  return command;
}

export function grantFrom(
  flags: GrantFlags,
  options: { allowWildcard: boolean } = { allowWildcard: false },
): DesiredGrant {
  return desiredGrant({
    namespace: flags.namespace,
    selection: {
      airflowVersion: flags.airflowVersion,
      astroRuntimeVersion: flags.runtimeVersion,
      remoteExecution: flags.remoteExecution,
      components: flags.components,
    },
    ...(options.allowWildcard
      ? { wildcard: { requested: flags.wildcard === true, clusterType: flags.clusterType, strict: true } }
      : {}),
  });
}
