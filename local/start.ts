/**
 * `npm start`: the whole thing on a laptop, no account needed. Starts the emulated clouds, the Astro API and Slack,
 * runs the real handlers of every function the way each platform runs them, sends the samples, shows each target
 * before and after and the Slack messages, then keeps serving (or exits with --once). SIGINT and SIGTERM stop every
 * server and emulator (Azurite included) before the process exits.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { SlackMessage } from '../shared/report/slack-blocks.ts';
import { type AwsStack, demoConfig, startAwsStack } from './aws-stack.ts';
import { type AzureStack, startAzureStack } from './azure-stack.ts';
import { runAuditDemo } from './demo-audit.ts';
import { runAwsDemo } from './demo-aws.ts';
import { runAzureDemo } from './demo-azure.ts';
import { runGcpDemo } from './demo-gcp.ts';
import { runAwsIdentityDemo, runGcpIdentityDemo } from './demo-identity-paths.ts';
import { bold, green, indent } from './demo-output.ts';
import { runPollerDemo } from './demo-poller.ts';
import { LOCAL_HOUSTON_TOKEN, runSoftwareDemo, softwareAwsConfig, softwareGcpConfig } from './demo-software.ts';
import { demoGcpConfig, type GcpStack, startGcpStack } from './gcp-stack.ts';
import { startHoustonEmulator } from './houston-emulator/server.ts';
import { samples } from './samples.ts';
import { renderSlackText } from './slack-text.ts';
import { printTryIt } from './try-it.ts';

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
  --port      port of the local AWS function URLs; GCP takes N+1, Azure N+2 (env PORT, default 8787; 0: free ports)
  --secret    webhook signing secret for every function, whsec_<base64> (env WEBHOOK_SECRET, default: a fresh one)
  --verbose   show the functions' JSON logs
Stop with Ctrl-C (SIGINT) or SIGTERM: every server and emulator is closed before the process exits.`);
  process.exit(0);
}

const stacks: Array<{ close(): Promise<void> }> = [];
let stopping: Promise<void> | undefined;
/** Closes whatever has started, once, whichever way the process is asked to stop. */
function stop(code: number): Promise<void> {
  stopping ??= (async () => {
    await Promise.allSettled(stacks.map((s) => s.close()));
    process.exit(code);
  })();
  return stopping;
}
process.once('SIGINT', () => void stop(130));
process.once('SIGTERM', () => void stop(143));
// A wrapper that dies without passing the signal on (a shell, a killed npm) must not leave the servers holding their
// ports: once this process is orphaned, it stops too.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop(143);
}, 500).unref();

const basePort = Number(values.port);
const logLevel = values.verbose ? 'INFO' : 'ERROR';
// One secret and one token for every function, so the commands printed below work against each of them.
const webhookSecret = values.secret ?? `whsec_${randomBytes(24).toString('base64')}`;
const manualToken = randomBytes(18).toString('base64url');
const shared = { webhookSecret, manualToken, logLevel } as const;
const port = (offset: number) => (basePort === 0 ? 0 : basePort + offset);

// Astronomer Software's Houston, read by the AWS and GCP functions' pollers (the platform spans EKS and GKE).
const houston = await startHoustonEmulator({ token: LOCAL_HOUSTON_TOKEN });
stacks.push(houston);
const withSoftware = (config: string, software: { section: string; rule: string }) =>
  config.replace('targets:\n', `${software.section}targets:\n${software.rule}`);
const softwareEnv = { HOUSTON_TOKEN: LOCAL_HOUSTON_TOKEN, ASTRO_IDENTITY_SYNC_HOUSTON_URL: houston.url };
const aws: AwsStack = await startAwsStack({
  port: port(0),
  ...shared,
  config: withSoftware(demoConfig(), softwareAwsConfig()),
  env: softwareEnv,
});
stacks.push(aws);
const gcp: GcpStack = await startGcpStack({
  port: port(1),
  ...shared,
  config: withSoftware(demoGcpConfig(), softwareGcpConfig()),
  env: softwareEnv,
});
stacks.push(gcp);
const azure: AzureStack = await startAzureStack({ port: port(2), ...shared });
stacks.push(azure);

console.log(bold('astro-identity-sync local stack'));
console.log(`  emulated AWS (IAM, EventBridge, events queue): ${aws.aws.url}`);
if (aws.dynamo !== undefined) {
  console.log(`  DynamoDB (dynalite), the write-lease table:    ${aws.dynamo.url}  ${aws.dynamo.table}`);
}
console.log(`  emulated Astro API:                            ${aws.astro.url}`);
console.log(`  emulated Houston (Astronomer Software):        ${houston.url}`);
console.log(`  emulated Slack:                                ${aws.slack.url}`);
console.log(`  AWS webhook / manual function URLs:            ${aws.webhookUrl}  ${aws.manualUrl}`);
console.log(`  GCP HTTP function:                             ${gcp.url}`);
console.log(`  Azure function app:                            ${azure.functionsUrl}`);
console.log(`  Azure Storage queue (Azurite):                 ${azure.azurite.queueUrl}\n`);

let failures = 0;
try {
  failures += await runAwsDemo(aws);
  failures += await runPollerDemo(aws);
  failures += await runAwsIdentityDemo(aws);
  failures += await runGcpDemo(gcp);
  failures += await runGcpIdentityDemo(gcp);
  failures += await runSoftwareDemo(aws, gcp, houston);
  failures += await runAzureDemo(azure);
  failures += await runAuditDemo(aws, process.cwd(), samples[0]?.deployment.organizationId ?? '');
} catch (error) {
  console.error('a sample crashed:', error);
  failures += 1;
}

if (values.once) {
  console.log(failures === 0 ? green('All samples granted and reported.') : `${failures} sample(s) failed.`);
  await stop(failures === 0 ? 0 : 1);
} else {
  await printTryIt(aws, process.cwd());
  console.log('\nServing; Slack messages appear below. Stop with Ctrl-C (SIGINT) or SIGTERM.');
  let shown = aws.slack.messages.length;
  setInterval(() => {
    for (; shown < aws.slack.messages.length; shown++) {
      const message = aws.slack.messages[shown];
      if (message)
        console.log(`\nSlack (${message.channel}):\n${indent(renderSlackText(message as unknown as SlackMessage))}`);
    }
  }, 250).unref();
}
