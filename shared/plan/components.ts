import { ValidationError } from '../errors.ts';
import { assertNamespace, assertServiceAccountName, printable } from './guardrails.ts';
import { assertReleaseName, chartFullname } from './software-names.ts';

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

/**
 * Fills a component's template. `{namespace}` always; `{release}` and `{fullname}` (the Helm chart's release-based
 * names, Astronomer Software) only with the Deployment's release name. The result must be a valid name.
 */
export function serviceAccountFor(
  table: ComponentTable,
  component: string,
  namespace: string,
  release?: string,
): string {
  // Own keys only: "constructor" is a valid component name and an Object.prototype member.
  const template = Object.hasOwn(table.serviceAccounts, component) ? table.serviceAccounts[component] : undefined;
  if (template === undefined) {
    const known = Object.keys(table.serviceAccounts).sort().join(', ');
    throw new ValidationError(`unknown component "${component}"; known components: ${known}`, { field: 'components' });
  }
  assertNamespace(namespace);
  let name = template.replaceAll('{namespace}', namespace);
  if (/\{(release|fullname)\}/.test(name)) {
    if (release === undefined) {
      throw new ValidationError(
        `the ${component} service account is named after the Helm release ("${printable(template)}"), and this Deployment has no release name`,
        { field: `components.${component}` },
      );
    }
    name = name.replaceAll('{fullname}', chartFullname(release)).replaceAll('{release}', assertReleaseName(release));
  }
  return assertServiceAccountName(name, `components.${component}`);
}

/** The field of a Deployment (Astro API names) that a version was read from. */
type VersionField = 'airflowVersion' | 'astroRuntimeVersion';

/** What one version string says: an Airflow major, a version of no major this tool knows, or not a version. */
type VersionReading =
  | { readonly kind: 'major'; readonly major: 1 | 2 | 3 }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'invalid' };

// A bare major ("2", "v3"), major.minor ("2.10") or a full release, with PEP 440 pre/dev/post tags ("3.0.0rc1")
// and a local suffix ("2.10.3+astro.1"). Anything else ("latest", "2x") is not a version.
const AIRFLOW_VERSION = /^v?(\d{1,4})(?:\.\d{1,6}){0,3}(?:[-.]?(?:a|b|rc|alpha|beta|dev|post)\d*)*(?:\+[0-9a-z.]+)?$/i;
// Runtime for Airflow 3 is versioned "<airflow major.minor>-<build>" (3.0-1, 3.1-2); older ones are semver (12.1.0),
// possibly written as a bare major (12) or with a build suffix (1.10.15-7 was an Astronomer Certified image).
const RUNTIME_DASHED = /^(\d{1,4})\.\d{1,6}-\d{1,6}(?:[-+.][0-9a-z.+-]*)?$/i;
const RUNTIME_SEMVER = /^v?(\d{1,4})(?:\.\d{1,6}){0,2}(?:[-+][0-9a-z.+-]*)?$/i;

function readAirflow(value: string): VersionReading {
  const match = AIRFLOW_VERSION.exec(value);
  if (match?.[1] === undefined) return { kind: 'invalid' };
  const major = Number(match[1]);
  return major === 1 || major === 2 || major === 3 ? { kind: 'major', major } : { kind: 'unknown' };
}

function readRuntime(value: string): VersionReading {
  const dashed = RUNTIME_DASHED.exec(value);
  if (dashed?.[1] !== undefined) return dashed[1] === '3' ? { kind: 'major', major: 3 } : { kind: 'unknown' };
  const semver = RUNTIME_SEMVER.exec(value);
  if (semver?.[1] === undefined) return { kind: 'invalid' };
  const major = Number(semver[1]);
  // Runtime 4-13 shipped Airflow 2 (9-13 are the ones Astro still runs). Runtime 3.x is Airflow 3: the 2021 semver
  // Runtime 3.0.x (Airflow 2.1) has been out of support for years and cannot run on Astro today. No Runtime shipped
  // Airflow 1, so a 1.x here is an Airflow 1 or Astronomer Certified 1.10 version, which must not pass as unknown.
  if (major === 1) return { kind: 'major', major: 1 };
  if (major === 3) return { kind: 'major', major: 3 };
  if (major >= 4 && major <= 13) return { kind: 'major', major: 2 };
  return { kind: 'unknown' };
}

interface AirflowVersionInfo {
  /** The Airflow major the version names; undefined for a version of no major this tool has a set for. */
  readonly major: 1 | 2 | 3 | undefined;
  readonly field: VersionField;
  /** The version as read, trimmed. */
  readonly value: string;
}

/**
 * Which version decides a Deployment's Airflow major, and what it says. `airflowVersion` wins when it is a version;
 * one that is blank or not a version at all falls back to `astroRuntimeVersion`. Undefined when neither is a version.
 */
export function airflowVersionOf(versions: {
  airflowVersion?: string | undefined;
  astroRuntimeVersion?: string | undefined;
}): AirflowVersionInfo | undefined {
  const sources = [
    ['airflowVersion', versions.airflowVersion?.trim() ?? '', readAirflow],
    ['astroRuntimeVersion', versions.astroRuntimeVersion?.trim() ?? '', readRuntime],
  ] as const;
  for (const [field, value, read] of sources) {
    const reading = read(value);
    if (reading.kind === 'major') return { major: reading.major, field, value };
    if (reading.kind === 'unknown') return { major: undefined, field, value };
  }
  return undefined;
}

/** Parses an Airflow or Astro Runtime version into the Airflow major version, or undefined when it cannot tell. */
export function airflowMajor(versions: {
  airflowVersion?: string | undefined;
  astroRuntimeVersion?: string | undefined;
}): 2 | 3 | undefined {
  const major = airflowVersionOf(versions)?.major;
  return major === 2 || major === 3 ? major : undefined;
}

const AIRFLOW_1_REFUSED = 'Astro does not run Airflow 1; this tool has no service-account set for it';

function airflow1(value: string, field: string): ValidationError {
  return new ValidationError(`Airflow 1 ("${printable(value)}") is not supported: ${AIRFLOW_1_REFUSED}`, { field });
}

/**
 * Refuses a Deployment that runs Airflow 1. Defaulting it to Airflow 3 like an unknown version would grant service
 * accounts that do not exist, and report success for a Deployment that still has no access.
 */
function assertNotAirflow1(
  versions: { airflowVersion?: string | undefined; astroRuntimeVersion?: string | undefined },
  fields: Partial<Record<VersionField, string>> = {},
): void {
  const info = airflowVersionOf(versions);
  if (info?.major === 1) throw airflow1(info.value, fields[info.field] ?? info.field);
}

/**
 * Strict reading of an Airflow version typed by a person (the CLI): anything but Airflow 2 or 3 is an error, where a
 * Deployment from the API would fall back to the Airflow 3 default.
 */
export function assertAirflowVersion(value: string, field = 'airflowVersion'): 2 | 3 {
  const trimmed = value.trim();
  const reading = readAirflow(trimmed);
  if (reading.kind === 'invalid') {
    throw new ValidationError(`"${printable(value)}" is not an Airflow version; use e.g. 2.10.3 or 3`, { field });
  }
  if (reading.kind === 'unknown') {
    const major = AIRFLOW_VERSION.exec(trimmed)?.[1] ?? trimmed;
    throw new ValidationError(
      `"${printable(value)}" is Airflow ${major}, which has no service-account set in this tool; use 2 or 3, or list the components`,
      { field },
    );
  }
  if (reading.major === 1) throw airflow1(trimmed, field);
  return reading.major;
}

/** Strict reading of an Astro Runtime version typed by a person; see assertAirflowVersion. */
export function assertRuntimeVersion(value: string, field = 'astroRuntimeVersion'): 2 | 3 {
  const trimmed = value.trim();
  const reading = readRuntime(trimmed);
  if (reading.kind === 'invalid') {
    throw new ValidationError(`"${printable(value)}" is not an Astro Runtime version; use e.g. 12.1.0 or 3.0-1`, {
      field,
    });
  }
  if (reading.kind === 'unknown') {
    throw new ValidationError(
      `"${printable(value)}" is not an Astro Runtime version this tool can map to Airflow 2 or 3 (Runtime 4-13 run Airflow 2, 3.x-N Airflow 3); give the Airflow version instead`,
      { field },
    );
  }
  if (reading.major === 1) throw airflow1(trimmed, field);
  return reading.major;
}

export interface ComponentSelection {
  readonly airflowVersion?: string | undefined;
  readonly astroRuntimeVersion?: string | undefined;
  readonly remoteExecution?: boolean | undefined;
  /** Explicit list; wins over the version-based defaults. */
  readonly components?: readonly string[] | undefined;
}

/**
 * Which mode a Deployment runs in; Airflow 3 is assumed when the version is absent or unknown (the current default on
 * Astro). Airflow 1 is refused (ValidationError naming the version field).
 */
export function componentMode(selection: ComponentSelection): ComponentMode {
  assertNotAirflow1(selection);
  const major = airflowMajor(selection);
  if (selection.remoteExecution === true && major !== 2) return 'remoteExecution';
  return major === 2 ? 'airflow2' : 'airflow3';
}

/** Every component must be a name of the table; `field` names the list in the error (`components`, `--components`). */
export function assertKnownComponents(
  components: readonly string[],
  table: ComponentTable = DEFAULT_COMPONENT_TABLE,
  field = 'components',
): void {
  if (components.length === 0) throw new ValidationError('at least one component is required', { field });
  for (const component of components) {
    if (!COMPONENT_NAME.test(component) || !Object.hasOwn(table.serviceAccounts, component)) {
      const known = Object.keys(table.serviceAccounts).sort().join(', ');
      throw new ValidationError(`unknown component "${printable(component)}"; known components: ${known}`, { field });
    }
  }
}

export function selectComponents(
  selection: ComponentSelection,
  table: ComponentTable = DEFAULT_COMPONENT_TABLE,
): string[] {
  // Checked even with an explicit list: an Airflow 1 Deployment has none of these service accounts.
  assertNotAirflow1(selection);
  const chosen = selection.components ?? table.sets[componentMode(selection)];
  assertKnownComponents(chosen, table);
  return [...new Set(chosen)].sort();
}
