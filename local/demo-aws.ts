import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { AwsStack } from './aws-stack.ts';
import { showRoleCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import { samples } from './samples.ts';

/**
 * The AWS samples the production way: a signed webhook to the webhook function, PutEvents, the rule, the events
 * queue and the reconciler draining it; each role's trust policy before and after, and the Slack message.
 */
export async function runAwsDemo(stack: AwsStack): Promise<number> {
  let failures = 0;
  for (const sample of samples) stack.aws.putRole(sample.roleName, sample.trustPolicy);
  // The Astro API is the source of truth: the functions re-read each announced Deployment from it.
  for (const sample of samples) stack.astro.upsert(sample.deployment);
  for (const sample of samples) {
    const { deployment } = sample;
    console.log(bold(`== ${deployment.name}: Airflow ${deployment.airflowVersion}, namespace ${deployment.namespace}`));
    showJson(`role ${sample.roleName} before`, stack.aws.getTrustPolicy(sample.roleName));
    const body = JSON.stringify({
      type: 'deployment.created',
      timestamp: new Date().toISOString(),
      data: { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment },
    });
    const sentSlack = stack.slack.messages.length;
    const headers = signWebhook({ secret: stack.webhookSecret, id: `msg_sample_${deployment.name}`, body });
    const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body });
    console.log(`  POST /webhook (signed) -> ${response.status} ${await response.text()}`);
    await stack.idle();
    const after = stack.aws.getTrustPolicy(sample.roleName);
    showJson(`role ${sample.roleName} after`, after);
    showRoleCapacity(sample.roleName, after);
    const granted = JSON.stringify(after).includes(`${deployment.namespace}-scheduler-serviceaccount`);
    verdict(granted, 'the role trusts every service account of the Deployment');
    const message = stack.slack.messages[sentSlack];
    showSlack(message);
    if (!granted || !message || response.status !== 202) failures += 1;
  }
  return failures + stack.deadLetters.length;
}
