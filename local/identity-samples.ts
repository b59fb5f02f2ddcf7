/** The Deployments `npm start` uses to show the identity paths beyond a customer-managed role on one cluster. */

const org = 'clorg0000000000000000000';
/** Stands in for Astro's AWS account, whose roles are the Deployments' default (Astro-managed) identities. */
export const LOCAL_ASTRO_ACCOUNT = '999999999999';
export const LOCAL_DR_ISSUER = 'https://oidc.eks.us-west-2.amazonaws.com/id/D15A57E2ECE0000000000000000000AB';
export const SHARED_S3_ROLE = 'astro-shared-s3';
/** Stands in for the Astro-managed Google service accounts of GCP Deployments. */
export const LOCAL_ASTRO_GCP_PROJECT = 'astro-managed-prod';
export const IMPERSONATED_SA = 'etl-impersonated@acme-data.iam.gserviceaccount.com';

const common = {
  organizationId: org,
  workspaceId: 'clws00000000000000000000',
  workspaceName: 'Data Platform',
  type: 'DEDICATED',
  airflowVersion: '2.10.3',
  astroRuntimeVersion: '12.4.0',
} as const;

/** Cross-region DR: the secondary cluster has its own issuer, whose IAM OIDC provider the account does not have yet. */
export const drSample = {
  roleName: 'astro-orders',
  deployment: {
    ...common,
    id: 'clq2dr00000000008l4fdu1ab',
    name: 'orders-dr',
    namespace: 'lunar-harbor-8642',
    clusterId: 'clcl00000000000000000000',
    clusterName: 'aws-us-east-1-prod',
    cloudProvider: 'AWS',
    region: 'us-east-1',
    oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
    effectiveWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-orders',
    drOidcIssuerUrl: LOCAL_DR_ISSUER,
    effectiveDRWorkloadIdentity: 'arn:aws:iam::123456789012:role/astro-orders',
  },
} as const;

/** A Deployment on Astro's default identity; a config rule lets the customer's shared role trust it. */
export const astroManagedSample = {
  deployment: {
    ...common,
    id: 'clq2bi00000000008l4fdu1ab',
    name: 'bi-dashboards',
    namespace: 'amber-quasar-9753',
    clusterId: 'clcl00000000000000000000',
    clusterName: 'aws-us-east-1-prod',
    cloudProvider: 'AWS',
    region: 'us-east-1',
    oidcIssuerUrl: 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678',
    effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ASTRO_ACCOUNT}:role/astro-wi-amber-quasar-9753`,
  },
} as const;

/** A GCP Deployment on Astro's default identity, impersonating a customer service account. */
export const impersonationSample = {
  deployment: {
    ...common,
    id: 'clq2imp0000000008l4fdu1ab',
    name: 'bi-exports',
    namespace: 'silver-nova-1122',
    clusterId: 'clcl11111111111111111111',
    clusterName: 'gcp-us-central1-prod',
    cloudProvider: 'GCP',
    region: 'us-central1',
    airflowVersion: '3.0.2',
    astroRuntimeVersion: '3.0-4',
    oidcIssuerUrl: 'https://container.googleapis.com/v1/projects/astro-gke-prod/locations/us-central1/clusters/astro',
    effectiveWorkloadIdentity: `astro-silver-nova-1122@${LOCAL_ASTRO_GCP_PROJECT}.iam.gserviceaccount.com`,
  },
} as const;
