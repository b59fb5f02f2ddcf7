import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { AwsStack } from './aws-stack.ts';
import { showPolicyCapacity, showRoleCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import { sampleProject, seedSampleProject } from './gcp-emulator/project-seed.ts';
import type { GcpStack } from './gcp-stack.ts';
import {
  astroManagedSample,
  drSample,
  IMPERSONATED_SA,
  impersonationSample,
  SHARED_S3_ROLE,
} from './identity-samples.ts';

type Sent = { status: number; text: string };

async function announce(
  url: string,
  secret: string,
  deployment: { id: string; name: string; organizationId: string },
): Promise<Sent> {
  const body = JSON.stringify({
    type: 'deployment.created',
    timestamp: new Date().toISOString(),
    data: { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment },
  });
  const headers = signWebhook({ secret, id: `msg_sample_${deployment.name}`, body });
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, text: await response.text() };
}

/**
 * The AWS paths beyond one cluster and one customer role: a DR Deployment whose role must trust both clusters (the
 * secondary cluster's IAM OIDC provider is missing and gets created), and a Deployment on Astro's default identity
 * that a customer role trusts as Principal.AWS.
 */
export async function runAwsIdentityDemo(stack: AwsStack): Promise<number> {
  let failures = 0;
  const empty = { Version: '2012-10-17', Statement: [] as unknown[] };
  const dr = drSample.deployment;
  console.log(bold(`\n== AWS, disaster recovery: ${dr.name} runs in a primary and a secondary (DR) cluster`));
  stack.aws.putRole(drSample.roleName, empty);
  stack.astro.upsert(dr);
  console.log(`  IAM OIDC providers before: ${stack.aws.oidcProviders().length}`);
  let sent = stack.slack.messages.length;
  const drAnswer = await announce(stack.webhookUrl, stack.webhookSecret, dr);
  console.log(`  POST /webhook (signed) -> ${drAnswer.status}`);
  await stack.idle();
  const drPolicy = JSON.stringify(stack.aws.getTrustPolicy(drSample.roleName));
  showJson(`role ${drSample.roleName} after`, stack.aws.getTrustPolicy(drSample.roleName));
  showRoleCapacity(drSample.roleName, stack.aws.getTrustPolicy(drSample.roleName));
  console.log(`  IAM OIDC providers after: ${stack.aws.oidcProviders().join(', ')}`);
  const both = drPolicy.includes('us-east-1.amazonaws.com/id/') && drPolicy.includes('us-west-2.amazonaws.com/id/');
  verdict(both, 'the role trusts the primary and the DR cluster; the missing OIDC provider was created');
  showSlack(stack.slack.messages[sent]);
  if (!both || stack.slack.messages.length === sent) failures += 1;

  const managed = astroManagedSample.deployment;
  console.log(bold(`\n== AWS, Astro-managed identity: ${managed.name} keeps Astro's default role`));
  stack.aws.putRole(SHARED_S3_ROLE, empty);
  stack.aws.addExternalPrincipal(managed.effectiveWorkloadIdentity);
  stack.astro.upsert(managed);
  showJson(`role ${SHARED_S3_ROLE} before`, stack.aws.getTrustPolicy(SHARED_S3_ROLE));
  sent = stack.slack.messages.length;
  const managedAnswer = await announce(stack.webhookUrl, stack.webhookSecret, managed);
  console.log(`  POST /webhook (signed) -> ${managedAnswer.status}`);
  await stack.idle();
  showJson(`role ${SHARED_S3_ROLE} after`, stack.aws.getTrustPolicy(SHARED_S3_ROLE));
  showRoleCapacity(SHARED_S3_ROLE, stack.aws.getTrustPolicy(SHARED_S3_ROLE));
  const trusted = JSON.stringify(stack.aws.getTrustPolicy(SHARED_S3_ROLE)).includes(managed.effectiveWorkloadIdentity);
  verdict(trusted, "the shared role trusts the Deployment's Astro-managed role (Principal.AWS, sts:AssumeRole)");
  showSlack(stack.slack.messages[sent]);
  if (!trusted || stack.slack.messages.length === sent) failures += 1;
  return failures;
}

/** GCP impersonation: the Deployment's Astro-managed service account may mint tokens for the customer's. */
export async function runGcpIdentityDemo(stack: GcpStack): Promise<number> {
  const { deployment } = impersonationSample;
  console.log(bold(`\n== GCP, impersonation: ${deployment.name} keeps Astro's default service account`));
  stack.gcp.putServiceAccount(IMPERSONATED_SA, {
    version: 1,
    bindings: [{ role: 'roles/viewer', members: ['group:data-platform@acme.example'] }],
  });
  showJson(`${IMPERSONATED_SA} policy before`, stack.gcp.getPolicy(IMPERSONATED_SA));
  const sent = stack.slack.messages.length;
  const answer = await announce(stack.webhookUrl, stack.webhookSecret, deployment);
  console.log(`  POST / (signed) -> ${answer.status}`);
  const after = stack.gcp.getPolicy(IMPERSONATED_SA);
  showJson(`${IMPERSONATED_SA} policy after`, after);
  showPolicyCapacity(IMPERSONATED_SA, after);
  const ok = JSON.stringify(after).includes(`serviceAccount:${deployment.effectiveWorkloadIdentity}`);
  verdict(ok, 'roles/iam.serviceAccountTokenCreator for the Deployment’s Astro-managed service account');
  showSlack(stack.slack.messages[sent]);
  const failures = ok && stack.slack.messages.length > sent ? 0 : 1;
  return failures + (await runGcpProjectDemo(stack));
}

/** GCP project roles: `gcloud projects add-iam-policy-binding` per role, on a project policy shared with people. */
async function runGcpProjectDemo(stack: GcpStack): Promise<number> {
  const { deployment } = sampleProject;
  console.log(
    bold(`\n== GCP, project roles: ${deployment.name} reads BigQuery and Cloud Storage in ${sampleProject.project}`),
  );
  const project = seedSampleProject(stack.gcp);
  showJson(`project ${project} policy before`, stack.gcp.getProjectPolicy(project));
  const sent = stack.slack.messages.length;
  const answer = await announce(stack.webhookUrl, stack.webhookSecret, deployment);
  console.log(`  POST / (signed) -> ${answer.status}`);
  const after = stack.gcp.getProjectPolicy(project) as typeof sampleProject.policy;
  showJson(`project ${project} policy after`, after);
  showPolicyCapacity(`project ${project}`, after);
  const granted = sampleProject.roles.every((role) =>
    after.bindings.some(
      (b) => b.role === role && !('condition' in b) && (b.members as readonly string[]).includes(sampleProject.member),
    ),
  );
  const kept =
    sampleProject.policy.bindings.every((seededBinding) =>
      after.bindings.some(
        (b) =>
          b.role === seededBinding.role &&
          seededBinding.members.every((m) => (b.members as readonly string[]).includes(m)),
      ),
    ) && JSON.stringify(after.auditConfigs) === JSON.stringify(sampleProject.policy.auditConfigs);
  verdict(
    granted && kept,
    'two project roles for the Astro-managed service account; the owner, the conditional binding and audit configs kept',
  );
  showSlack(stack.slack.messages[sent]);
  return granted && kept && stack.slack.messages.length > sent ? 0 : 1;
}
