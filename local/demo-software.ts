import { handlerDeps } from '../functions/aws/handler-deps.ts';
import { createScheduledHandler } from '../functions/aws/scheduled-handler.ts';
import { type AwsStack, LOCAL_ACCOUNT } from './aws-stack.ts';
import { showPolicyCapacity, showRoleCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import { type GcpStack, LOCAL_POOL } from './gcp-stack.ts';
import type { HoustonEmulator } from './houston-emulator/server.ts';
import { lambdaContext } from './lambda-context.ts';

/** The platform team's Houston token in the local stack (sent raw, as Houston takes it). */
export const LOCAL_HOUSTON_TOKEN = 'houston-local-token';
const EKS_ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/5C0FFEE0123456789ABCDEF012345678';
const ROLE = 'astro-software-etl';
const SA = 'software-warehouse@acme-data.iam.gserviceaccount.com';

/**
 * The platform's `software:` section, the same in every function's config (as one config is shared): it spans the
 * samples' EKS cluster and a GKE cluster. Each function grants only what its rules and allowlists reach.
 */
const SECTION = `software:
  baseDomain: astro.acme.example
  token: env:HOUSTON_TOKEN
  clusters:
    eks-prod: { oidcIssuerUrl: "${EKS_ISSUER}", cloudProvider: AWS }
    gke-prod: { pool: ${LOCAL_POOL}, cloudProvider: GCP }
`;

/** The `software:` section and rule the AWS demo config gets. */
export function softwareAwsConfig(): { section: string; rule: string } {
  return {
    section: SECTION,
    rule: `  - name: software-etl
    match: { cloudProviders: [AWS], releaseNames: ["solar-*"] }
    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/${ROLE}" }
`,
  };
}

/** The same section, and the GKE rule, for the GCP demo config. */
export function softwareGcpConfig(): { section: string; rule: string } {
  return {
    section: SECTION,
    rule: `  - name: software-warehouse
    match: { cloudProviders: [GCP], releaseNames: ["weightless-*"] }
    gcp: { serviceAccount: ${SA} }
`,
  };
}

const common = {
  workspace: { id: '5e1f0000-0000-4000-8000-000000000001', label: 'Data Platform' },
  runtimeVersion: '12.4.0',
};

/**
 * Astronomer Software: no webhooks, so the poller reads Houston and grants the Airflow chart's service accounts
 * (`<release>-airflow-<component>`) through each Software cluster's own issuer (EKS) or pool (GKE).
 */
export async function runSoftwareDemo(aws: AwsStack, gcp: GcpStack, houston: HoustonEmulator): Promise<number> {
  let failures = 0;
  console.log(bold('\n== Astronomer Software on AWS: solar-orbit-4143 appears in Houston; the poller runs'));
  aws.aws.putRole(ROLE, { Version: '2012-10-17', Statement: [] });
  houston.upsert({
    ...common,
    id: '5e1f0000-0000-4000-8000-000000004143',
    label: 'ETL (Software)',
    releaseName: 'solar-orbit-4143',
    namespace: 'astronomer-solar-orbit-4143',
    clusterId: 'eks-prod',
  });
  showJson(`role ${ROLE} before`, aws.aws.getTrustPolicy(ROLE));
  const deps = handlerDeps(aws.env);
  const result = await createScheduledHandler(deps)({ task: 'poll' }, lambdaContext('astro-identity-sync-scheduled'));
  (await deps.runtime()).close();
  console.log(`  scheduled {"task":"poll"} -> ${JSON.stringify(result)}`);
  showJson(`role ${ROLE} after`, aws.aws.getTrustPolicy(ROLE));
  showRoleCapacity(ROLE, aws.aws.getTrustPolicy(ROLE));
  const awsOk = JSON.stringify(aws.aws.getTrustPolicy(ROLE)).includes(
    'system:serviceaccount:astronomer-solar-orbit-4143:solar-orbit-4143-airflow-worker',
  );
  verdict(
    awsOk,
    'the role trusts the chart service accounts (<release>-airflow-<component>) of the Software Deployment',
  );
  showSlack(aws.slack.messages.at(-1));
  if (!awsOk) failures += 1;

  console.log(bold('\n== Astronomer Software on GKE: weightless-meteor-5042; the poller runs'));
  gcp.gcp.putServiceAccount(SA, { version: 1, bindings: [] });
  houston.upsert({
    ...common,
    id: '5e1f0000-0000-4000-8000-000000005042',
    label: 'Warehouse (Software)',
    releaseName: 'weightless-meteor-5042',
    namespace: 'astronomer-weightless-meteor-5042',
    clusterId: 'gke-prod',
  });
  showJson(`${SA} policy before`, gcp.gcp.getPolicy(SA));
  const sent = gcp.slack.messages.length;
  console.log(`  Cloud Scheduler {"task":"poll"} -> ${(await gcp.schedule('poll')).status}`);
  showJson(`${SA} policy after`, gcp.gcp.getPolicy(SA));
  showPolicyCapacity(SA, gcp.gcp.getPolicy(SA));
  const gcpOk = JSON.stringify(gcp.gcp.getPolicy(SA)).includes(
    `serviceAccount:${LOCAL_POOL}[astronomer-weightless-meteor-5042/weightless-meteor-5042-airflow-scheduler]`,
  );
  verdict(gcpOk, 'roles/iam.workloadIdentityUser for the chart service accounts in the GKE pool');
  showSlack(gcp.slack.messages[sent]);
  if (!gcpOk || gcp.slack.messages.length === sent) failures += 1;
  return failures;
}
