import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { TargetUsage } from '../shared/report/outcome.ts';
import {
  type AzureStack,
  identityResourceId,
  LOCAL_AKS_ISSUER,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
} from './azure-stack.ts';
import { showIdentityCapacity, showReportedCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import { azureQueueSample, azureSample } from './samples.ts';

/** Sends the Azure sample through the function app's HTTP route and shows the identity's credentials before and after. */
export async function runAzureDemo(stack: AzureStack): Promise<number> {
  const { identityName, existing } = azureSample;
  const deployment = {
    ...azureSample.deployment,
    oidcIssuerUrl: LOCAL_AKS_ISSUER,
    effectiveWorkloadIdentity: identityResourceId(identityName),
  };
  console.log(
    bold(`\n== Azure: ${deployment.name}: Airflow ${deployment.airflowVersion}, namespace ${deployment.namespace}`),
  );
  console.log(`  function app (HTTP trigger, @azure/functions v4): ${stack.functionsUrl}`);
  stack.seedIdentity(identityName);
  for (const credential of existing) {
    stack.azure.putCredential(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identityName, {
      ...credential,
      audiences: [...credential.audiences],
    });
  }
  showJson(
    `identity ${identityName} credentials before`,
    stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identityName),
  );
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
    `  POST /api/webhook (signed) -> ${response.status}, results: ${JSON.stringify(answer.results?.map((r) => r.status))}`,
  );
  const after = stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identityName);
  showJson(
    `identity ${identityName} credentials after (${after.length}/20)`,
    after.map((c) => `${c.name}  ${c.subject}`),
  );
  showReportedCapacity(answer.results);
  const ok = response.status === 200 && after.some((c) => c.name === `${deployment.namespace}-scheduler`);
  verdict(ok, 'one federated credential per service account, created one at a time');
  showSlack(stack.slack.messages.at(-1));
  return (ok && stack.slack.messages.length > 0 ? 0 : 1) + (await runAzureQueueDemo(stack, identityName));
}

/**
 * The decoupled route: a message on the Storage queue (Azurite, the real client, base64 as the host expects), taken
 * by the queue trigger the way the Functions host delivers it.
 */
async function runAzureQueueDemo(stack: AzureStack, identityName: string): Promise<number> {
  const deployment = {
    ...azureQueueSample,
    oidcIssuerUrl: LOCAL_AKS_ISSUER,
    effectiveWorkloadIdentity: identityResourceId(identityName),
  };
  console.log(bold(`\n== Azure queue: ${deployment.name}, namespace ${deployment.namespace}`));
  console.log(`  Storage queue ${stack.queue.name} on Azurite: ${stack.azurite.queueUrl}`);
  const sentSlack = stack.slack.messages.length;
  const delivery = await stack.enqueue({
    webhookId: `msg_queue_${deployment.name}`,
    event: {
      type: 'deployment.created',
      timestamp: new Date().toISOString(),
      data: { organizationId: deployment.organizationId, deploymentId: deployment.id, deployment },
    },
  });
  console.log(
    `  queue message ${delivery.messageId} -> dequeued ${delivery.attempts} time(s), poisoned: ${delivery.poisoned}`,
  );
  const after = stack.azure.credentials(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identityName);
  const ok = !delivery.poisoned && after.some((c) => c.name === `${deployment.namespace}-scheduler`);
  showJson(
    `identity ${identityName} credentials after (${after.length}/20)`,
    after.map((c) => `${c.name}  ${c.subject}`),
  );
  showIdentityCapacity(identityName, after);
  verdict(ok, 'the queue trigger took the message from Azurite and created the credentials');
  showSlack(stack.slack.messages[sentSlack]);
  return ok && stack.slack.messages.length > sentSlack ? 0 : 1;
}
