/** The sample Deployments `npm start` sends, shaped as the Astro API returns them. */
export interface Sample {
  readonly roleName: string;
  readonly trustPolicy: unknown;
  readonly deployment: Record<string, unknown> & {
    id: string;
    name: string;
    namespace: string;
    organizationId: string;
  };
}

const org = 'clorg0000000000000000000';

export const samples: readonly Sample[] = [
  {
    roleName: 'astro-data',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Ec2', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
      ],
    },
    deployment: {
      id: 'clq2etl0000000008l4fdu1ab',
      name: 'etl-prod',
      namespace: 'nebular-gravity-1234',
      organizationId: org,
      workspaceId: 'clws00000000000000000000',
      workspaceName: 'Data Platform',
      clusterId: 'clcl00000000000000000000',
      clusterName: 'aws-us-east-1-prod',
      cloudProvider: 'AWS',
      region: 'us-east-1',
      type: 'DEDICATED',
      airflowVersion: '2.10.3',
      astroRuntimeVersion: '12.4.0',
      oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
      effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-data',
    },
  },
  {
    roleName: 'astro-ml',
    trustPolicy: {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'GithubActions',
          Effect: 'Allow',
          Principal: { Federated: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com' },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: { StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/ml:*' } },
        },
      ],
    },
    deployment: {
      id: 'clq2ml00000000008l4fdu1ab',
      name: 'ml-train',
      namespace: 'cosmic-lens-5678',
      organizationId: org,
      workspaceId: 'clws11111111111111111111',
      workspaceName: 'Machine Learning',
      clusterId: 'clcl00000000000000000000',
      clusterName: 'aws-us-east-1-prod',
      cloudProvider: 'AWS',
      region: 'us-east-1',
      type: 'STANDARD',
      airflowVersion: '3.0.2',
      astroRuntimeVersion: '3.0-4',
      oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
      effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-ml',
    },
  },
];

/** A GKE-based Deployment whose customer-managed identity is a Google service account. */
export const gcpSample = {
  serviceAccount: 'astro-data@acme-data.iam.gserviceaccount.com',
  policy: {
    version: 1,
    bindings: [{ role: 'roles/iam.serviceAccountTokenCreator', members: ['group:data-platform@acme.example'] }],
  },
  deployment: {
    id: 'clq2gcp0000000008l4fdu1ab',
    name: 'bigquery-loads',
    namespace: 'radiant-comet-4321',
    organizationId: org,
    workspaceId: 'clws22222222222222222222',
    workspaceName: 'Analytics',
    clusterId: 'clcl11111111111111111111',
    clusterName: 'gcp-us-central1-prod',
    cloudProvider: 'GCP',
    region: 'us-central1',
    type: 'DEDICATED',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-4',
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/astro-gke-prod/locations/us-central1/clusters/astro',
    effectiveWorkloadIdentity: 'astro-data@acme-data.iam.gserviceaccount.com',
  },
} as const;

/** A Deployment nobody announced: it exists only in the Astro API, for the poller to find. */
export const pollerSample = {
  roleName: 'astro-reporting',
  trustPolicy: { Version: '2012-10-17', Statement: [] as unknown[] },
  deployment: {
    id: 'clq2poll000000008l4fdu1ab',
    name: 'reporting-nightly',
    namespace: 'quiet-nebula-2468',
    organizationId: org,
    workspaceId: 'clws00000000000000000000',
    workspaceName: 'Data Platform',
    clusterId: 'clcl00000000000000000000',
    clusterName: 'aws-us-east-1-prod',
    cloudProvider: 'AWS',
    region: 'us-east-1',
    type: 'STANDARD',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-4',
    oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
    effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-reporting',
  },
} as const;

/** An AKS-based Remote Execution Deployment whose identity already federates a GitHub workflow. */
export const azureSample = {
  identityName: 'astro-mi-analytics',
  existing: [
    {
      name: 'github-deploy',
      issuer: 'https://token.actions.githubusercontent.com',
      subject: 'repo:acme/dags:ref:refs/heads/main',
      audiences: ['api://AzureADTokenExchange'],
    },
  ],
  deployment: {
    id: 'clq2azr0000000008l4fdu1ab',
    name: 'finance-close',
    namespace: 'stellar-drift-1357',
    organizationId: org,
    workspaceId: 'clws33333333333333333333',
    workspaceName: 'Finance',
    clusterId: 'clcl22222222222222222222',
    clusterName: 'azure-westus2-prod',
    cloudProvider: 'AZURE',
    region: 'westus2',
    type: 'DEDICATED',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-4',
    remoteExecution: { enabled: true },
  },
} as const;

/** An Azure Deployment announced through the Storage queue (a sender that enqueues instead of calling the webhook). */
export const azureQueueSample = {
  id: 'clq2azq0000000008l4fdu1ab',
  name: 'finance-reports',
  namespace: 'stellar-orbit-2468',
  organizationId: org,
  workspaceId: 'clws33333333333333333333',
  workspaceName: 'Finance',
  clusterId: 'clcl22222222222222222222',
  clusterName: 'azure-westus2-prod',
  cloudProvider: 'AZURE',
  region: 'westus2',
  type: 'DEDICATED',
  airflowVersion: '3.0.2',
  astroRuntimeVersion: '3.0-4',
  remoteExecution: { enabled: true },
} as const;
