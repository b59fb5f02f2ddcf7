import { ValidationError } from '../errors.ts';
import type { ComponentMode, ComponentTable } from './components.ts';
import { assertNamespace, printable } from './guardrails.ts';

/**
 * Astronomer Software (Astro Private Cloud) runs each Deployment as a Helm release of the Airflow chart, so its
 * service accounts are the chart's: `<fullname>-<component>`, where `<fullname>` is `<release>-airflow` unless the
 * release name already contains "airflow" (the chart's `airflow.fullname` helper). Older platforms used
 * `<release>-<component>`, and "bring your own service accounts" exists: the templates are config, these the
 * defaults. Placeholders: `{fullname}`, `{release}`, `{namespace}`.
 */
export const DEFAULT_SOFTWARE_SERVICE_ACCOUNTS: Readonly<Record<string, string>> = {
  // Airflow 3's API server; the chart names it api-server, Astro Hosted's table calls the component apiserver.
  apiserver: '{fullname}-api-server',
  cleanup: '{fullname}-cleanup',
  'dag-processor': '{fullname}-dag-processor',
  'migrate-database-job': '{fullname}-migrate-database-job',
  scheduler: '{fullname}-scheduler',
  triggerer: '{fullname}-triggerer',
  webserver: '{fullname}-webserver',
  worker: '{fullname}-worker',
};

/**
 * What a Software Deployment runs by default. No KPO account (pods run under the worker's unless configured), and
 * cleanup / migrate-database-job only when a config lists them: they exist only when the chart enables them.
 */
export const DEFAULT_SOFTWARE_COMPONENT_SETS: Readonly<Record<ComponentMode, readonly string[]>> = {
  airflow2: ['dag-processor', 'scheduler', 'triggerer', 'webserver', 'worker'],
  airflow3: ['apiserver', 'dag-processor', 'scheduler', 'triggerer', 'worker'],
  remoteExecution: ['apiserver', 'scheduler'],
};

export const DEFAULT_SOFTWARE_COMPONENT_TABLE: ComponentTable = {
  serviceAccounts: DEFAULT_SOFTWARE_SERVICE_ACCOUNTS,
  sets: DEFAULT_SOFTWARE_COMPONENT_SETS,
};

/** Helm release names are DNS-1123 labels of at most 53 characters. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$/;

export function assertReleaseName(value: string, field = 'releaseName'): string {
  if (!RELEASE_NAME.test(value)) {
    throw new ValidationError(
      `"${printable(value)}" is not a Helm release name (lowercase letters, digits and "-", at most 53 characters)`,
      { field },
    );
  }
  return value;
}

/** The chart's `airflow.fullname`: the release name, with "-airflow" appended unless it already says airflow. */
export function chartFullname(release: string): string {
  assertReleaseName(release);
  // The chart truncates at 63 characters; a release name (at most 53) plus "-airflow" never reaches that.
  return release.includes('airflow') ? release : `${release}-airflow`;
}

/** The namespace Software gives a release unless one was set: `<platform namespace>-<release>`. */
export function softwareNamespace(template: string, input: { readonly release: string; readonly platform: string }) {
  return assertNamespace(
    template
      .replaceAll('{platformNamespace}', input.platform)
      .replaceAll('{release}', assertReleaseName(input.release)),
  );
}
