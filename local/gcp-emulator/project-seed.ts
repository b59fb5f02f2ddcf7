import type { GcpEmulator } from './server.ts';

/**
 * A project for the local stack's project-role path: a policy as a real project has one (an owner, a person's
 * grant, a conditional binding, audit configs), and the config lines and Deployment that target it. `npm start`
 * seeds it with `seedSampleProject(stack.gcp)`, adds `config` to the GCP config and sends `deployment`; afterwards
 * the policy holds `member` in both `roles`, and everything seeded is still there as it was.
 */
export const sampleProject = {
  project: 'acme-analytics',
  roles: ['roles/bigquery.dataViewer', 'roles/storage.objectViewer'],
  member: 'serviceAccount:astro-radiant-comet-4321@astro-prod-123.iam.gserviceaccount.com',
  /** The principal allowlist pattern that calls this Deployment's identity Astro's. */
  identities: 'astro-*@astro-prod-123.iam.gserviceaccount.com',
  policy: {
    version: 3,
    bindings: [
      { role: 'roles/owner', members: ['user:owner@acme.example'] },
      { role: 'roles/bigquery.dataViewer', members: ['group:analysts@acme.example'] },
      {
        role: 'roles/storage.objectViewer',
        members: ['group:contractors@acme.example'],
        condition: { title: 'until 2030', expression: "request.time < timestamp('2030-01-01T00:00:00Z')" },
      },
    ],
    auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }],
  },
  /**
   * Lines to merge into the `gcp:` section and the `targets:` list of the local GCP config; `identities` goes into
   * `gcp.allowedWorkloadIdentityPrincipals` beside any other pattern.
   */
  config: {
    gcp: [
      '  allowedProjects: ["acme-analytics"]',
      '  allowedProjectRoles: [roles/bigquery.dataViewer, roles/storage.objectViewer]',
    ].join('\n'),
    targets: [
      '  - name: analytics-project',
      '    match: { names: ["analytics-*"] }',
      '    gcp: { project: acme-analytics, roles: [roles/bigquery.dataViewer, roles/storage.objectViewer] }',
    ].join('\n'),
  },
  /** A Deployment on Astro's default identity, as the Astro API returns it. */
  deployment: {
    id: 'clq2gcpprj00008l4fdu1ab00',
    name: 'analytics-loads',
    namespace: 'radiant-comet-4321',
    organizationId: 'clorg0000000000000000000',
    workspaceId: 'clws22222222222222222222',
    clusterId: 'clcl11111111111111111111',
    clusterName: 'gcp-us-central1-prod',
    cloudProvider: 'GCP',
    region: 'us-central1',
    type: 'DEDICATED',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-4',
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/astro-gke-prod/locations/us-central1/clusters/astro',
    effectiveWorkloadIdentity: 'astro-radiant-comet-4321@astro-prod-123.iam.gserviceaccount.com',
  },
} as const;

/** Seeds the sample project (replacing its policy); returns its id. */
export function seedSampleProject(emulator: Pick<GcpEmulator, 'putProject'>): string {
  emulator.putProject(sampleProject.project, structuredClone(sampleProject.policy));
  return sampleProject.project;
}
