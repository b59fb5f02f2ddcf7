import type { GcpStack } from '../../local/gcp-stack.ts';
import { apiDeployment, deploymentEvent, postSigned } from './deployments.ts';

/** Project-role fixtures shared by the gcp-project integration tests: the config, Deployments and a seeded policy. */

export const PROJECT = 'acme-analytics';
export const BQ = 'roles/bigquery.dataViewer';
export const GCS = 'roles/storage.objectViewer';
export const LOGS = 'roles/logging.viewer';
export const identity = (ns: string) => `astro-${ns}@astro-prod-123.iam.gserviceaccount.com`;
export const member = (ns: string) => `serviceAccount:${identity(ns)}`;
export const OWNER = { role: 'roles/owner', members: ['user:owner@example.com'] };
export const condition = { title: 'office hours', expression: 'request.time.getHours("UTC") < 18' };
export const conditional = { role: BQ, members: ['group:contractors@example.com'], condition };
export const auditConfigs = [
  { service: 'allServices', auditLogConfigs: [{ logType: 'ADMIN_READ' }, { logType: 'DATA_READ' }] },
  {
    service: 'bigquery.googleapis.com',
    auditLogConfigs: [{ logType: 'DATA_WRITE', exemptedMembers: ['user:ci@example.com'] }],
  },
];

export const config = (
  overrides: { gcp?: string; targets?: string; extra?: string } = {},
) => `webhook: { secrets: ["env:WEBHOOK_SECRET"] }
manual: { token: "env:MANUAL_TOKEN" }
astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }
${overrides.extra ?? 'prune: true'}
gcp:
${
  overrides.gcp ??
  `  allowedProjects: ["acme-analytics", "acme-shared-*"]
  allowedProjectRoles: [${BQ}, ${GCS}, ${LOGS}]
  allowedWorkloadIdentityPrincipals: ["astro-*@astro-prod-123.iam.gserviceaccount.com"]`
}
targets:
${overrides.targets ?? `  - name: analytics\n    match: { all: true }\n    gcp: { project: ${PROJECT}, roles: [${GCS}, ${BQ}] }`}
slack: { mode: web-api, token: "env:SLACK_BOT_TOKEN", channel: "#iam" }
`;

/** A GCP Deployment on Astro's default identity; `prefix` keeps ids of different suites apart. */
export const gcpManagedDeployment = (ns: string, overrides: Record<string, unknown> = {}, prefix = 'clq2prj') =>
  apiDeployment({
    id: `${prefix}${ns
      .replace(/[^a-z0-9]/g, '')
      .padEnd(18, '0')
      .slice(0, 18)}`,
    name: ns,
    namespace: ns,
    cloudProvider: 'GCP',
    clusterName: 'gcp-us-central1-prod',
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/astro-gke/locations/us-central1/clusters/astro',
    effectiveWorkloadIdentity: identity(ns),
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    ...overrides,
  });

export const deployment = (ns: string, overrides: Record<string, unknown> = {}) => gcpManagedDeployment(ns, overrides);

export type Binding = { role: string; members: string[]; condition?: unknown };
export type Policy = { version?: number; etag?: string; bindings?: Binding[]; auditConfigs?: unknown };

export function seeded(extra: Binding[] = []): Policy {
  return {
    version: 3,
    bindings: [
      OWNER,
      { role: BQ, members: ['user:analyst@example.com'] },
      conditional,
      { role: 'roles/pubsub.subscriber', members: ['group:ops@example.com'] },
      ...extra,
    ],
    auditConfigs,
  };
}

/** Reads of the project and the Resource Manager call log, and a signed webhook sender, for the stack `get` answers. */
export function helpers(get: () => GcpStack) {
  const policy = () => get().gcp.getProjectPolicy(PROJECT) as Policy;
  const holders = (role: string) =>
    policy().bindings?.find((b) => b.role === role && b.condition === undefined)?.members ?? [];
  const crm = () => get().gcp.calls.filter((c) => c.service === 'cloudresourcemanager');
  const writes = () => get().gcp.count('setIamPolicy', 'cloudresourcemanager');
  const send = (body: Record<string, unknown>, type?: 'deployment.deleted') =>
    postSigned(get().webhookUrl, get().webhookSecret, JSON.stringify(deploymentEvent(body, type)));
  return { policy, holders, crm, writes, send };
}
