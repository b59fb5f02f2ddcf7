import { handlerDeps } from '../functions/aws/handler-deps.ts';
import { createScheduledHandler } from '../functions/aws/scheduled-handler.ts';
import type { AwsStack } from './aws-stack.ts';
import { showRoleCapacity } from './demo-capacity.ts';
import { bold, showJson, showSlack, verdict } from './demo-output.ts';
import { lambdaContext } from './lambda-context.ts';
import { pollerSample } from './samples.ts';

/**
 * Astro sends no webhook for a new Deployment. This shows the other path: the Deployment only exists in the (emulated)
 * Astro API, and the scheduled poller finds it and authorizes it.
 */
export async function runPollerDemo(stack: AwsStack): Promise<number> {
  const { deployment, roleName, trustPolicy } = pollerSample;
  console.log(bold(`\n== AWS, no webhook: ${deployment.name} appears in the Astro API; the 5-minute poller runs`));
  stack.aws.putRole(roleName, trustPolicy);
  stack.astro.upsert({ ...deployment, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
  showJson(`role ${roleName} before`, stack.aws.getTrustPolicy(roleName));
  const deps = handlerDeps(stack.env);
  const result = await createScheduledHandler(deps)({ task: 'poll' }, lambdaContext('astro-identity-sync-scheduled'));
  console.log(`  scheduled {"task":"poll"} -> ${JSON.stringify(result)}`);
  const after = JSON.stringify(stack.aws.getTrustPolicy(roleName));
  const ok =
    after.includes(`${deployment.namespace}:*`) || after.includes(`${deployment.namespace}-scheduler-serviceaccount`);
  showJson(`role ${roleName} after`, stack.aws.getTrustPolicy(roleName));
  showRoleCapacity(roleName, stack.aws.getTrustPolicy(roleName));
  verdict(ok, 'picked up by the poller, without any webhook');
  showSlack(stack.slack.messages.at(-1));
  (await deps.runtime()).close();
  return ok ? 0 : 1;
}
