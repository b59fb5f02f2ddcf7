import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { signWebhook } from '../shared/intake/webhook-signer.ts';
import type { AwsStack } from './aws-stack.ts';
import { LOCAL_ACCOUNT } from './aws-stack.ts';
import { bold } from './demo-output.ts';
import { LOCAL_ASTRO_ACCOUNT, SHARED_S3_ROLE } from './identity-samples.ts';
import { samples } from './samples.ts';

const quote = (value: string) => `'${value.replaceAll("'", "'\\''")}'`;

/**
 * The config `sync` needs to run against the local stack: the Astro emulator as the source and the emulated IAM
 * roles as targets, with the token read from the environment as on a workstation.
 */
export function localSyncConfig(organizationId: string): string {
  return [
    'astro:',
    '  token: env:ASTRO_API_TOKEN',
    `  organizationId: ${organizationId}`,
    'aws:',
    `  allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"]`,
    // The same identity paths as the functions, so sync agrees with what they granted.
    `  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::${LOCAL_ASTRO_ACCOUNT}:role/astro-wi-*"]`,
    'targets:',
    '  - name: shared-s3',
    '    match: { names: ["bi-*"] }',
    `    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/${SHARED_S3_ROLE}", trust: workload-identity }`,
    '',
  ].join('\n');
}

/** The `sync` command line for the local stack: the emulators' endpoints, the lease table and token, then the CLI. */
export function syncCommand(stack: AwsStack, configFile: string, flags = '--all'): string {
  const env = {
    ASTRO_API_TOKEN: stack.env.ASTRO_API_TOKEN ?? '',
    ASTRO_IDENTITY_SYNC_ASTRO_API_URL: stack.astro.url,
    ASTRO_IDENTITY_SYNC_AWS_ENDPOINT: stack.aws.url,
    // sync --apply takes the same per-role lease as the local functions.
    ...(stack.dynamo === undefined
      ? {}
      : {
          ASTRO_IDENTITY_SYNC_DYNAMODB_ENDPOINT: stack.dynamo.url,
          ASTRO_IDENTITY_SYNC_LEASE_TABLE: stack.dynamo.table,
        }),
    AWS_REGION: 'us-east-1',
  };
  const assignments = Object.entries(env).map(([name, value]) => `${name}=${quote(value)}`);
  return `${assignments.join(' \\\n  ')} \\\n  npx astro-identity-sync sync --config ${configFile} ${flags}`;
}

/** Writes the local sync config under .local-state/ (ignored by git) and answers its path relative to `cwd`. */
export async function writeLocalSyncConfig(cwd: string, organizationId: string): Promise<string> {
  const dir = join(cwd, '.local-state');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'sync-config.yaml');
  await writeFile(file, localSyncConfig(organizationId));
  return relative(cwd, file);
}

/** What a person can paste while the stack serves: a signed webhook, a dry run, and a backfill with `sync`. */
export async function printTryIt(stack: AwsStack, cwd: string): Promise<void> {
  const [first, second] = samples;
  const body = JSON.stringify({
    type: 'deployment.updated',
    timestamp: new Date().toISOString(),
    data: { organizationId: first?.deployment.organizationId, deploymentId: first?.deployment.id },
  });
  const headers = signWebhook({ secret: stack.webhookSecret, id: `msg_try_${Date.now()}`, body });
  const h = Object.entries(headers)
    .map(([k, v]) => `-H ${quote(`${k}: ${v}`)}`)
    .join(' \\\n  ');
  console.log(bold('\nTry it (signed, valid for 5 minutes: the Standard Webhooks tolerance):'));
  console.log(`curl -i ${stack.webhookUrl} \\\n  ${h} \\\n  --data ${quote(body)}`);
  console.log(bold('\nOr ask for a dry run with the manual token (does not expire):'));
  const dryRun = JSON.stringify({ deploymentId: second?.deployment.id, dryRun: true });
  console.log(
    `curl -s ${stack.manualUrl} -H ${quote(`authorization: Bearer ${stack.manualToken}`)} -H 'content-type: application/json' \\\n  --data ${quote(dryRun)}`,
  );
  const config = await writeLocalSyncConfig(cwd, first?.deployment.organizationId ?? '');
  console.log(bold(`\nOr backfill every Deployment of the Astro emulator with sync (config written to ${config}):`));
  console.log(syncCommand(stack, config));
  console.log(
    `\nWebhook secret (every function): ${stack.webhookSecret}\nManual token (every function):   ${stack.manualToken}`,
  );
}
