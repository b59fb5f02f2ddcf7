/**
 * `npm start`: the whole thing on a laptop, no account needed. Starts the emulated AWS (IAM, EventBridge, SQS) and Slack,
 * runs the real Lambda handlers behind local Function URLs, sends signed events for two sample Deployments, shows
 * each role's trust policy before and after and the Slack message, then keeps serving (or exits with --once).
 */
import { parseArgs } from 'node:util';
import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { SlackMessage } from '../shared/report/slack-message.ts';
import { type AwsStack, demoConfig, startAwsStack } from './aws-stack.ts';
import { type AzureStack, startAzureStack } from './azure-stack.ts';
import { runAzureDemo } from './demo-azure.ts';
import { runGcpDemo } from './demo-gcp.ts';
import { runPollerDemo } from './demo-poller.ts';
import { type GcpStack, startGcpStack } from './gcp-stack.ts';
import { samples } from './samples.ts';
import { renderSlackText } from './slack-text.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    once: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.PORT ?? '8787' },
    secret: { type: 'string', default: process.env.WEBHOOK_SECRET },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(`Usage: npm start [-- --once] [-- --port N] [-- --secret whsec_...] [-- --verbose]
  --once      run the samples and exit (0 when every sample was granted and reported)
  --port      port of the local function URLs (env PORT, default 8787; 0 picks a free one)
  --secret    webhook signing secret, whsec_<base64> (env WEBHOOK_SECRET, default: a fresh random one)
  --verbose   show the functions' JSON logs`);
  process.exit(0);
}

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const indent = (text: string, by = '    ') => text.replace(/^/gm, by);

const basePort = Number(values.port);
const logLevel = values.verbose ? 'INFO' : 'ERROR';
const secret = values.secret ? { webhookSecret: values.secret } : {};
// AWS functions on PORT, the GCP function on PORT+1, the Azure function app on PORT+2 (any free ports with 0).
const stack = await startAwsStack({ port: basePort, ...secret, logLevel, config: demoConfig() });
const gcpStack: GcpStack = await startGcpStack({ port: basePort === 0 ? 0 : basePort + 1, ...secret, logLevel });
const azureStack: AzureStack = await startAzureStack({
  port: basePort === 0 ? 0 : basePort + 2,
  ...secret,
  logLevel: values.verbose ? 'INFO' : 'ERROR',
});
let failures = 0;
try {
  console.log(bold('astro-identity-sync local stack'));
  console.log(`  emulated AWS (IAM, EventBridge): ${stack.aws.url}`);
  console.log(
    `  events queue (in process):       ${stack.queue.name} -> reconciler, DLQ ${stack.deadLetterQueue.name}`,
  );
  console.log(`  emulated Slack:                  ${stack.slack.url}`);
  console.log(`  webhook function URL:            ${stack.webhookUrl}`);
  console.log(`  manual function URL:             ${stack.manualUrl}\n`);

  for (const sample of samples) stack.aws.putRole(sample.roleName, sample.trustPolicy);
  // The Astro API is the source of truth: the functions re-read each announced Deployment from it.
  for (const sample of samples) stack.astro.upsert(sample.deployment);
  for (const sample of samples) {
    console.log(
      bold(
        `== ${sample.deployment.name}: Airflow ${sample.deployment.airflowVersion}, namespace ${sample.deployment.namespace}`,
      ),
    );
    console.log(
      `  role ${sample.roleName} before:\n${indent(JSON.stringify(stack.aws.getTrustPolicy(sample.roleName), null, 2))}`,
    );
    const body = JSON.stringify({
      type: 'deployment.created',
      timestamp: new Date().toISOString(),
      data: {
        organizationId: sample.deployment.organizationId,
        deploymentId: sample.deployment.id,
        deployment: sample.deployment,
      },
    });
    const sentSlack = stack.slack.messages.length;
    const headers = signWebhook({ secret: stack.webhookSecret, id: `msg_sample_${sample.deployment.name}`, body });
    const response = await fetch(stack.webhookUrl, { method: 'POST', headers, body });
    console.log(`  POST /webhook (signed) -> ${response.status} ${await response.text()}`);
    await stack.idle();
    const after = stack.aws.getTrustPolicy(sample.roleName);
    console.log(`  role ${sample.roleName} after:\n${indent(JSON.stringify(after, null, 2))}`);
    const granted = JSON.stringify(after).includes(`${sample.deployment.namespace}-scheduler-serviceaccount`);
    console.log(
      granted ? green('  granted: the role trusts every service account of the Deployment') : '  NOT granted',
    );
    const message = stack.slack.messages[sentSlack];
    if (message)
      console.log(`  Slack (${message.channel}):\n${indent(renderSlackText(message as unknown as SlackMessage))}`);
    else console.log('  Slack: no message');
    if (!granted || !message || response.status !== 202) failures += 1;
  }
  if (stack.deadLetters.length > 0) failures += stack.deadLetters.length;
  failures += await runPollerDemo(stack);
  failures += await runGcpDemo(gcpStack);
  failures += await runAzureDemo(azureStack);

  if (values.once) {
    console.log(failures === 0 ? green('All samples granted and reported.') : `${failures} sample(s) failed.`);
  } else {
    printTryIt(stack);
    await serve(stack);
  }
} finally {
  if (values.once) {
    await Promise.all([stack.close(), gcpStack.close(), azureStack.close()]);
    process.exitCode = failures === 0 ? 0 : 1;
  }
}

function printTryIt(s: AwsStack) {
  const body = JSON.stringify({
    type: 'deployment.updated',
    timestamp: new Date().toISOString(),
    data: {
      organizationId: samples[0]?.deployment.organizationId,
      deploymentId: samples[0]?.deployment.id,
      deployment: samples[0]?.deployment,
    },
  });
  const headers = signWebhook({ secret: s.webhookSecret, id: `msg_try_${Date.now()}`, body });
  const h = Object.entries(headers)
    .map(([k, v]) => `-H '${k}: ${v}'`)
    .join(' \\\n  ');
  console.log(bold('\nTry it (signed, valid for 5 minutes: the Standard Webhooks tolerance):'));
  console.log(`curl -i ${s.webhookUrl} \\\n  ${h} \\\n  --data '${body}'`);
  console.log(bold('\nOr ask for a dry run with the manual token (does not expire):'));
  console.log(
    `curl -s ${s.manualUrl} -H 'authorization: Bearer ${s.manualToken}' -H 'content-type: application/json' \\\n  --data '${JSON.stringify({ deployment: samples[1]?.deployment, dryRun: true })}'`,
  );
  console.log(`\nWebhook secret: ${s.webhookSecret}\nServing; Slack messages appear below. Ctrl-C to stop.`);
}

async function serve(s: AwsStack): Promise<void> {
  let shown = s.slack.messages.length;
  const timer = setInterval(() => {
    for (; shown < s.slack.messages.length; shown++) {
      const message = s.slack.messages[shown];
      if (message)
        console.log(`\nSlack (${message.channel}):\n${indent(renderSlackText(message as unknown as SlackMessage))}`);
    }
  }, 250);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(timer);
  await Promise.all([s.close(), gcpStack.close(), azureStack.close()]);
}
