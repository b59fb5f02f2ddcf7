import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { TargetUsage } from '../shared/report/outcome.ts';
import { showReportedCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import type { GcpStack } from './gcp-stack.ts';
import { gcpSample } from './samples.ts';

/** Sends the GCP sample through the HTTP function and shows the service account's policy before and after. */
export async function runGcpDemo(stack: GcpStack): Promise<number> {
  const { deployment, serviceAccount, policy } = gcpSample;
  console.log(
    bold(`\n== GCP: ${deployment.name}: Airflow ${deployment.airflowVersion}, namespace ${deployment.namespace}`),
  );
  console.log(`  HTTP function (Functions Framework): ${stack.url}`);
  stack.gcp.putServiceAccount(serviceAccount, policy);
  showJson(`${serviceAccount} policy before`, stack.gcp.getPolicy(serviceAccount));
  const body = JSON.stringify({
    type: 'deployment.created',
    timestamp: new Date().toISOString(),
    data: { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment },
  });
  const headers = signWebhook({ secret: stack.webhookSecret, id: `msg_sample_${deployment.name}`, body });
  const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body });
  const answer = (await response.json()) as {
    results?: Array<{ status: string; target?: string; usage?: TargetUsage }>;
  };
  console.log(
    `  POST / (signed) -> ${response.status}, results: ${JSON.stringify(answer.results?.map((r) => r.status))}`,
  );
  const after = stack.gcp.getPolicy(serviceAccount);
  showJson(`${serviceAccount} policy after`, after);
  showReportedCapacity(answer.results);
  const ok =
    response.status === 200 &&
    JSON.stringify(after).includes(`${deployment.namespace}/${deployment.namespace}-scheduler-serviceaccount`);
  verdict(ok, 'roles/iam.workloadIdentityUser for every service account of the Deployment');
  showSlack(stack.slack.messages.at(-1));
  return ok && stack.slack.messages.length > 0 ? 0 : 1;
}
