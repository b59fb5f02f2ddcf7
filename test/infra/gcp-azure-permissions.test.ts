import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../functions/common/env-settings.ts';
import { parseScheduledTask } from '../../shared/intake/queue-envelopes.ts';
import { azureActions, gcpPermissions, registeredNames, tsFilesUnder } from './code-permissions.ts';
import { type Block, expr, list, loadModule, MODULE_DIRS, REPO, type TfModule } from './terraform-files.ts';

/**
 * GCP: the custom roles hold exactly the policy calls the code makes: the service-account role is bound on each target
 * service account, the project role on each of project_role_targets (empty by default), nothing at folder or
 * organization level. Azure: the custom role holds exactly the federated-credential actions the code
 * performs (delete only with prune), and is assigned on each target identity, never on a resource group or
 * subscription.
 */

let gcp: TfModule;
let azure: TfModule;
beforeAll(async () => {
  [gcp, azure] = await Promise.all([loadModule(MODULE_DIRS.gcp), loadModule(MODULE_DIRS.azure)]);
});

const resourcesOf = (m: TfModule, type: string): Record<string, Block> => m.resources[type] ?? {};

describe('GCP', () => {
  it('the custom roles have exactly the permissions the code uses: getIamPolicy and setIamPolicy of each', () => {
    const used = gcpPermissions(tsFilesUnder('functions/gcp'));
    expect(used).toEqual([
      'iam.serviceAccounts.getIamPolicy',
      'iam.serviceAccounts.setIamPolicy',
      'resourcemanager.projects.getIamPolicy',
      'resourcemanager.projects.setIamPolicy',
    ]);
    const [sa, project] = [
      used.filter((p) => p.startsWith('iam.')),
      used.filter((p) => p.startsWith('resourcemanager.')),
    ];
    expect([...(gcp.locals.target_sa_permissions as string[])].sort()).toEqual(sa);
    expect([...(gcp.locals.project_policy_permissions as string[])].sort()).toEqual(project);
    for (const type of ['google_project_iam_custom_role', 'google_organization_iam_custom_role']) {
      const roles = resourcesOf(gcp, type);
      expect(Object.keys(roles).sort()).toEqual(['project_policy', 'target_sa_policy']);
      expect(roles.target_sa_policy?.permissions).toBe(`\${local.target_sa_permissions}`);
      expect(roles.project_policy?.permissions).toBe(`\${local.project_policy_permissions}`);
    }
  });

  it('grants the project role on each of project_role_targets only, and on none by default', () => {
    expect(gcp.variables.project_role_targets?.default).toEqual([]);
    const binding = resourcesOf(gcp, 'google_project_iam_member').project_policy;
    expect(binding?.for_each).toBe(`\${toset(var.project_role_targets)}`);
    expect(binding?.project).toBe(`\${each.value}`);
    expect(binding?.member).toBe(`serviceAccount:\${google_service_account.runtime.email}`);
    expect(expr(binding?.role)).toBe(
      'var.organization_id == null ? google_project_iam_custom_role.project_policy[each.value].name : google_organization_iam_custom_role.project_policy[0].name',
    );
    // A project's custom role is created in that project; the organization's only when there are targets.
    const perProject = resourcesOf(gcp, 'google_project_iam_custom_role').project_policy;
    expect(perProject?.for_each).toBe(`\${var.organization_id == null ? toset(var.project_role_targets) : toset([])}`);
    expect(perProject?.project).toBe(`\${each.value}`);
    const inOrg = resourcesOf(gcp, 'google_organization_iam_custom_role').project_policy;
    expect(inOrg?.count).toBe(`\${var.organization_id != null && local.project_roles_on ? 1 : 0}`);
    expect(expr(gcp.locals.project_roles_on)).toBe('length(var.project_role_targets) > 0');
  });

  it('binds the service-account role on each target service account, and nothing at folder or organization level', () => {
    const bindings = resourcesOf(gcp, 'google_service_account_iam_member');
    expect(bindings.target?.for_each).toBe(`\${toset(var.target_service_accounts)}`);
    expect(bindings.target?.role).toBe(`\${local.target_sa_role}`);
    expect(bindings.target?.member).toBe(`serviceAccount:\${google_service_account.runtime.email}`);
    expect(String(bindings.target?.service_account_id)).toContain(`/serviceAccounts/\${each.value}`);
    const levelBindings = Object.entries(gcp.resources)
      .filter(([type]) => /^google_(project|folder|organization)_iam_(member|binding|policy)$/.test(type))
      .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`));
    // The one project-level binding is the opt-in project role (see below).
    expect(levelBindings).toEqual(['google_project_iam_member.project_policy']);
    const usesRole = Object.entries(gcp.resources).flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, block]) => /local\.target_sa_role\b/.test(JSON.stringify(block)))
        .map(([name]) => `${type}.${name}`),
    );
    expect(usesRole).toEqual(['google_service_account_iam_member.target']);
  });

  it('gives the runtime service account nothing else than the target role and its own secrets', () => {
    const grants = Object.entries(gcp.resources).flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, block]) => String(block.member ?? '').includes('google_service_account.runtime'))
        .map(([name, block]) => `${type}.${name}:${block.role}`),
    );
    expect(grants.sort()).toEqual([
      `google_project_iam_member.project_policy:\${var.organization_id == null ? google_project_iam_custom_role.project_policy[each.value].name : google_organization_iam_custom_role.project_policy[0].name}`,
      'google_secret_manager_secret_iam_member.runtime:roles/secretmanager.secretAccessor',
      `google_service_account_iam_member.target:\${local.target_sa_role}`,
    ]);
  });

  it('makes the HTTP function public only through the explicit allow_unauthenticated_http', () => {
    expect('default' in (gcp.variables.allow_unauthenticated_http ?? {})).toBe(false);
    const publics = Object.entries(gcp.resources).flatMap(([type, byName]) =>
      Object.entries(byName)
        .filter(([, block]) => block.member === 'allUsers' || block.member === 'allAuthenticatedUsers')
        .map(([name, block]) => ({ id: `${type}.${name}`, block })),
    );
    expect(publics.map((p) => p.id)).toEqual(['google_cloud_run_service_iam_member.http_public']);
    expect(publics[0]?.block.count).toBe(`\${var.allow_unauthenticated_http ? 1 : 0}`);
    expect(publics[0]?.block.service).toBe(`\${google_cloudfunctions2_function.http.name}`);
  });

  it('deploys the three entry points index.ts registers, Pub/Sub ones internal only', () => {
    const registered = registeredNames('functions/gcp/index.ts', ['http', 'cloudEvent']);
    const entryPoints = gcp.locals.entry_points as Record<string, string>;
    expect(Object.values(entryPoints).sort()).toEqual([...registered.keys()].sort());
    const functions = resourcesOf(gcp, 'google_cloudfunctions2_function');
    for (const [name, fn] of Object.entries(functions)) {
      const build = (fn.build_config as Block[] | undefined)?.[0];
      expect(build?.entry_point).toBe(`\${local.entry_points.${name}}`);
      const kind = registered.get(entryPoints[name] ?? '');
      const service = (fn.service_config as Block[] | undefined)?.[0];
      expect(service?.ingress_settings).toBe(kind === 'http' ? 'ALLOW_ALL' : 'ALLOW_INTERNAL_ONLY');
      expect(service?.service_account_email).toBe(`\${google_service_account.runtime.email}`);
      const secrets = (service?.dynamic as Block | undefined)?.secret_environment_variables;
      expect(secrets, `${name} mounts the secrets`).toBeDefined();
    }
  });

  it('retries queued events and dead-letters them (push), or retries through Eventarc', () => {
    const events = resourcesOf(gcp, 'google_pubsub_subscription').events;
    const deadLetter = (events?.dead_letter_policy as Block[] | undefined)?.[0];
    expect(deadLetter?.dead_letter_topic).toBe(`\${google_pubsub_topic.dead_letter.id}`);
    expect(deadLetter?.max_delivery_attempts).toBe(`\${var.max_delivery_attempts}`);
    expect((events?.retry_policy as Block[] | undefined)?.[0]).toBeDefined();
    expect(String((events?.push_config as Block[] | undefined)?.[0]?.push_endpoint)).toContain(
      `\${google_cloudfunctions2_function.events.service_config[0].uri}`,
    );
    expect(resourcesOf(gcp, 'google_pubsub_subscription').dead_letter?.topic).toBe(
      `\${google_pubsub_topic.dead_letter.id}`,
    );
    for (const name of ['events', 'schedule']) {
      const fn = resourcesOf(gcp, 'google_cloudfunctions2_function')[name];
      const dynamic = (fn?.dynamic ?? {}) as Block;
      const trigger = ((dynamic.event_trigger ?? []) as Block[])[0];
      expect(expr(trigger?.for_each)).toBe('local.push ? [] : [1]');
      const content = ((trigger?.content ?? []) as Block[])[0];
      expect(content?.retry_policy).toBe('RETRY_POLICY_RETRY');
    }
  });

  it('schedules poll every 5 minutes and sweep hourly with data the schedule function accepts', () => {
    const schedules = gcp.locals.schedules as Record<string, { schedule: string; data: string }>;
    expect(schedules.poll?.schedule).toBe('*/5 * * * *');
    expect(schedules.sweep?.schedule).toBe('0 * * * *');
    for (const [task, s] of Object.entries(schedules))
      expect(parseScheduledTask('scheduler', JSON.parse(s.data))).toEqual({ ok: true, value: task });
    const job = resourcesOf(gcp, 'google_cloud_scheduler_job').task;
    expect((job?.pubsub_target as Block[] | undefined)?.[0]?.topic_name).toBe(`\${google_pubsub_topic.schedule.id}`);
  });
});

describe('Azure', () => {
  const base = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';

  it('the custom role has exactly the actions the code performs, delete only with prune', () => {
    const used = azureActions(tsFilesUnder('functions/azure'));
    expect(used).toEqual(expect.arrayContaining([`${base}/read`, `${base}/write`]));
    expect(azure.locals.federated_credential_actions).toEqual([`${base}/read`, `${base}/write`]);
    expect(azure.locals.federated_credential_prune_actions).toEqual([`${base}/delete`]);
    expect(used.filter((a) => !a.endsWith('/delete'))).toEqual([`${base}/read`, `${base}/write`]);
    const role = resourcesOf(azure, 'azurerm_role_definition').federated_credentials;
    const permissions = (role?.permissions as Block[] | undefined)?.[0];
    expect(expr(permissions?.actions)).toBe(
      'var.prune ? concat(local.federated_credential_actions, local.federated_credential_prune_actions) : local.federated_credential_actions',
    );
    expect(list(permissions?.not_actions)).toEqual([]);
    expect(permissions?.data_actions).toBeUndefined();
    expect(Object.keys(resourcesOf(azure, 'azurerm_role_definition'))).toEqual(['federated_credentials']);
  });

  it('assigns the role on each target identity only', () => {
    const assignments = resourcesOf(azure, 'azurerm_role_assignment');
    expect(assignments.target?.for_each).toBe(`\${toset(var.target_identity_ids)}`);
    expect(assignments.target?.scope).toBe(`\${each.value}`);
    expect(assignments.target?.principal_id).toBe(`\${azurerm_user_assigned_identity.function.principal_id}`);
    const usingRole = Object.entries(assignments).filter(([, a]) =>
      String(a.role_definition_id ?? '').includes('azurerm_role_definition.federated_credentials'),
    );
    expect(usingRole.map(([name]) => name)).toEqual(['target']);
    // Every other assignment is scoped to a single resource of this module, never a group or subscription.
    const scopes = Object.fromEntries(Object.entries(assignments).map(([name, a]) => [name, a.scope]));
    expect(scopes).toEqual({
      target: `\${each.value}`,
      deployer_secrets: `\${azurerm_key_vault.this.id}`,
      function_secrets: `\${azurerm_key_vault_secret.this[each.key].resource_versionless_id}`,
    });
  });

  it('runs the queue trigger and the timers the code registers, with the settings the code reads', () => {
    const registered = registeredNames('functions/azure/index.ts', ['http', 'storageQueue', 'timer']);
    expect([...registered.keys()]).toEqual(expect.arrayContaining(['webhook', 'manual', 'reconciler']));
    // Timers are registered when their schedule settings are set: the module sets exactly the ones the code reads.
    // The schedules are declared with every other variable the functions read.
    const read = Object.keys(ENVIRONMENT).filter((name) => name.endsWith('_SCHEDULE'));
    expect(readFileSync(join(REPO, 'functions/azure/index.ts'), 'utf8')).toMatch(/settings\.azure\.pollSchedule/);
    const timers = azure.locals.timer_schedules as Record<string, string>;
    expect(Object.keys(timers).sort()).toEqual(read.sort());
    const app = resourcesOf(azure, 'azurerm_function_app_flex_consumption').this;
    const settings = expr(app?.app_settings);
    for (const key of ['ASTRO_IDENTITY_SYNC_CONFIG', 'ASTRO_IDENTITY_SYNC_QUEUE_NAME', 'AZURE_CLIENT_ID']) {
      expect(settings).toContain(key);
    }
    expect(settings).toContain(`@Microsoft.KeyVault(SecretUri=\${azurerm_key_vault_secret.this[key].versionless_id})`);
    expect(settings).toContain('var.schedules_enabled ? local.timer_schedules : {}');
    expect(settings).not.toContain('FUNCTIONS_WORKER_RUNTIME');
    expect(azure.variables.queue_name?.default).toBe('astro-identity-sync-events');
  });
});
