/**
 * `npm start`: shows the core planning the grants for two sample Deployments on each cloud. Runs offline, writes
 * nothing. (Replaced by the full local stack, with emulated clouds and Slack, as the functions land.)
 */
import { planAwsTrustPolicy } from '../shared/aws-trust-policy-planner.ts';
import { planAzureCredentials } from '../shared/azure-credentials-planner.ts';
import { planGcpPolicy } from '../shared/gcp-policy-planner.ts';
import { desiredGrant } from '../shared/subjects.ts';

const samples = [
  { name: 'etl-prod', namespace: 'nebular-gravity-1234', airflowVersion: '2.10.3' },
  { name: 'ml-train', namespace: 'cosmic-lens-5678', airflowVersion: '3.0.2' },
];
const issuer = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123456789';
let trustPolicy: unknown = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
let gcpPolicy: unknown = { version: 1, etag: 'BwYHc2ZzJ0E=', bindings: [] };
let credentials: unknown[] = [];

for (const sample of samples) {
  const grant = desiredGrant({ namespace: sample.namespace, selection: { airflowVersion: sample.airflowVersion } });
  console.log(`\n== ${sample.name} (namespace ${sample.namespace}, Airflow ${sample.airflowVersion})`);
  const aws = planAwsTrustPolicy({
    policy: trustPolicy,
    roleArn: 'arn:aws:iam::123456789012:role/astro-data',
    issuer,
    grant,
  });
  console.log(`AWS   role astro-data: +${aws.added.length} subjects, trust policy ${aws.size}/2048 characters`);
  const gcp = planGcpPolicy({ policy: gcpPolicy, grant, pool: 'astro-gke-prod.svc.id.goog' });
  console.log(`GCP   astro-data@acme-data.iam.gserviceaccount.com: +${gcp.added.length} workloadIdentityUser members`);
  const azure = planAzureCredentials({
    existing: credentials,
    issuer: 'https://westus2.oic.prod-aks.azure.com/t/c/',
    grant,
  });
  console.log(
    `Azure astro-data identity: +${azure.create.length} federated credentials (${credentials.length + azure.create.length}/20)`,
  );
  for (const subject of aws.added) console.log(`      ${subject}`);
  trustPolicy = aws.policy;
  gcpPolicy = gcp.policy;
  credentials = [...credentials, ...azure.create];
}
const again = planAwsTrustPolicy({
  policy: trustPolicy,
  roleArn: 'arn:aws:iam::123456789012:role/astro-data',
  issuer,
  grant: desiredGrant({ namespace: samples[0]?.namespace ?? '', selection: { airflowVersion: '2.10.3' } }),
});
console.log(`\nRe-running the first Deployment: changed=${again.changed} (a converged role costs one read, no write).`);
console.log('Try the CLI: npx astro-identity-sync plan aws --help');
