import { ValidationError } from '../errors.ts';
import { assertNamespace, assertServiceAccountName } from './guardrails.ts';

/**
 * The Kubernetes service accounts Astro runs a Deployment's components under. Names follow the Astro docs
 * (`<ns>-<component>-serviceaccount`, `<ns>-kpo`); the table is data so a config can correct a name (the Airflow 3
 * API server's is not yet confirmed by Astro) without a release.
 */
export const DEFAULT_SERVICE_ACCOUNTS: Readonly<Record<string, string>> = {
  apiserver: '{namespace}-apiserver-serviceaccount',
  'dag-processor': '{namespace}-dag-processor-serviceaccount',
  kpo: '{namespace}-kpo',
  scheduler: '{namespace}-scheduler-serviceaccount',
  triggerer: '{namespace}-triggerer-serviceaccount',
  webserver: '{namespace}-webserver-serviceaccount',
  worker: '{namespace}-worker-serviceaccount',
};

export type ComponentMode = 'airflow2' | 'airflow3' | 'remoteExecution';

export const DEFAULT_COMPONENT_SETS: Readonly<Record<ComponentMode, readonly string[]>> = {
  airflow2: ['dag-processor', 'kpo', 'scheduler', 'triggerer', 'webserver', 'worker'],
  airflow3: ['apiserver', 'dag-processor', 'kpo', 'scheduler', 'triggerer', 'worker'],
  // Remote Execution runs workers in the customer's cluster; Astro's side needs the API server (task logs) and the
  // scheduler (custom timetables that read the secrets backend).
  remoteExecution: ['apiserver', 'scheduler'],
};

export interface ComponentTable {
  readonly serviceAccounts: Readonly<Record<string, string>>;
  readonly sets: Readonly<Record<ComponentMode, readonly string[]>>;
}

export const DEFAULT_COMPONENT_TABLE: ComponentTable = {
  serviceAccounts: DEFAULT_SERVICE_ACCOUNTS,
  sets: DEFAULT_COMPONENT_SETS,
};

/** Component names are used in Azure credential names (`<ns>-<component>`), so they are DNS-1123 labels too. */
export const COMPONENT_NAME = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/;

export function serviceAccountFor(table: ComponentTable, component: string, namespace: string): string {
  // Own keys only: "constructor" is a valid component name and an Object.prototype member.
  const template = Object.hasOwn(table.serviceAccounts, component) ? table.serviceAccounts[component] : undefined;
  if (template === undefined) {
    const known = Object.keys(table.serviceAccounts).sort().join(', ');
    throw new ValidationError(`unknown component "${component}"; known components: ${known}`, { field: 'components' });
  }
  assertNamespace(namespace);
  return assertServiceAccountName(template.replaceAll('{namespace}', namespace), `components.${component}`);
}

/** Parses an Airflow or Astro Runtime version into the Airflow major version, or undefined when it cannot tell. */
export function airflowMajor(versions: {
  airflowVersion?: string | undefined;
  astroRuntimeVersion?: string | undefined;
}): 2 | 3 | undefined {
  const airflow = /^v?(\d+)\./.exec(versions.airflowVersion?.trim() ?? '');
  if (airflow?.[1] !== undefined) {
    const major = Number(airflow[1]);
    if (major === 2 || major === 3) return major;
    return undefined;
  }
  const runtime = versions.astroRuntimeVersion?.trim() ?? '';
  // Runtime for Airflow 3 is versioned "<airflow major.minor>-<build>" (3.0-1, 3.1-2).
  const dashed = /^(\d+)\.(\d+)-\d+/.exec(runtime);
  if (dashed?.[1] !== undefined) return dashed[1] === '3' ? 3 : undefined;
  // Semver Runtime 4.x-13.x shipped Airflow 2 (9-13 are the ones Astro still runs). Runtime 3.x is Airflow 3: the
  // 2021 semver Runtime 3.0.x (Airflow 2.1) has been out of support for years and cannot run on Astro today.
  const semver = /^(\d+)\.\d+/.exec(runtime);
  if (semver?.[1] !== undefined) {
    const major = Number(semver[1]);
    if (major === 3) return 3;
    if (major >= 4 && major <= 13) return 2;
  }
  return undefined;
}

export interface ComponentSelection {
  readonly airflowVersion?: string | undefined;
  readonly astroRuntimeVersion?: string | undefined;
  readonly remoteExecution?: boolean | undefined;
  /** Explicit list; wins over the version-based defaults. */
  readonly components?: readonly string[] | undefined;
}

/** Which mode a Deployment runs in; Airflow 3 is assumed when the version is unknown (the current default on Astro). */
export function componentMode(selection: ComponentSelection): ComponentMode {
  const major = airflowMajor(selection);
  if (selection.remoteExecution === true && major !== 2) return 'remoteExecution';
  return major === 2 ? 'airflow2' : 'airflow3';
}

export function selectComponents(
  selection: ComponentSelection,
  table: ComponentTable = DEFAULT_COMPONENT_TABLE,
): string[] {
  const chosen = selection.components ?? table.sets[componentMode(selection)];
  if (chosen.length === 0) throw new ValidationError('at least one component is required', { field: 'components' });
  for (const component of chosen) {
    if (!COMPONENT_NAME.test(component) || !Object.hasOwn(table.serviceAccounts, component)) {
      const known = Object.keys(table.serviceAccounts).sort().join(', ');
      throw new ValidationError(`unknown component "${component}"; known components: ${known}`, {
        field: 'components',
      });
    }
  }
  return [...new Set(chosen)].sort();
}
