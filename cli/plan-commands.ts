import { Command, Option } from 'commander';
import { ValidationError } from '../shared/errors.ts';
import { parseTrustPolicyText } from '../shared/plan/aws/policy-document.ts';
import { blockedFinding, editedWarnings } from '../shared/plan/aws/trust-findings.ts';
import { DEFAULT_TRUST_POLICY_MAX_SIZE, planAwsTrustPolicy } from '../shared/plan/aws/trust-policy-planner.ts';
import {
  AZURE_MAX_CREDENTIALS,
  normalizeCredentials,
  planAzureCredentials,
} from '../shared/plan/azure/credentials-planner.ts';
import { asGcpPolicy, type GcpMemberFormat, planGcpPolicy } from '../shared/plan/gcp/policy-planner.ts';
import {
  assertIssuer,
  assertProjectNumber,
  assertWorkloadIdentityPool,
  parseRoleArn,
} from '../shared/plan/guardrails.ts';
import { CliExit, type CliIo, parseJsonInput, readDocument } from './cli-io.ts';
import { EXIT_UNSAFE } from './exit-codes.ts';
import { addGrantOptions, type GrantFlags, grantFrom, positiveInt, VERSION_HELP } from './grant-options.ts';

function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

function awsCommand(io: CliIo): Command {
  const command = new Command('aws')
    .description("plan the IAM role trust-policy change (GetRole's document in, the document to send out)")
    .requiredOption(
      '--policy <file>',
      'current trust policy: JSON, URL-encoded, or `aws iam get-role` output; - for stdin',
    )
    .requiredOption('--role-arn <arn>', 'the IAM role to authorize')
    .requiredOption('--issuer <url>', "the cluster's OIDC issuer URL (https://...)")
    .option('--max-size <n>', 'trust policy length quota in characters', positiveInt, DEFAULT_TRUST_POLICY_MAX_SIZE);
  addGrantOptions(command, { wildcard: true });
  return command.action(
    async (flags: GrantFlags & { policy: string; roleArn: string; issuer: string; maxSize: number }) => {
      parseRoleArn(flags.roleArn, '--role-arn');
      assertIssuer(flags.issuer, '--issuer');
      const grant = grantFrom(flags, { allowWildcard: true });
      const policy = parseTrustPolicyText(await readDocument(io, flags.policy, '--policy'), '--policy');
      const plan = planAwsTrustPolicy({
        policy,
        roleArn: flags.roleArn,
        issuer: flags.issuer,
        grant,
        maxSize: flags.maxSize,
      });
      for (const warning of editedWarnings(plan.edited).warnings ?? []) io.stderr(`warning: ${warning}\n`);
      const { blocked } = blockedFinding(
        plan.blocked.map(({ subject, ...verdict }) => ({ entry: subject, ...verdict })),
        'subject',
      );
      if (blocked !== undefined) {
        // IAM would refuse these subjects whatever is written: no plan to apply, as for a policy that does not fit.
        io.stderr(`error: ${blocked.reason}\n${blocked.remedies.map((r) => `fix: ${r}\n`).join('')}`);
        throw new CliExit(EXIT_UNSAFE);
      }
      printJson(io, { changed: plan.changed, added: plan.added, size: plan.size, policy: plan.policy });
    },
  );
}

function gcpCommand(io: CliIo): Command {
  const command = new Command('gcp')
    .description('plan the roles/iam.workloadIdentityUser change on a Google service account')
    .requiredOption(
      '--policy <file>',
      'current policy (`gcloud iam service-accounts get-iam-policy --format=json`); - for stdin',
    )
    .requiredOption('--pool <pool>', 'workload identity pool: <gke-project-id>.svc.id.goog')
    .addOption(
      new Option('--member-format <format>', 'member syntax')
        .choices(['service-account', 'principal'])
        .default('service-account'),
    )
    .option(
      '--project-number <n>',
      'GKE project number (required with --member-format principal; lets either member form count as granted)',
    );
  addGrantOptions(command, { wildcard: false });
  return command.action(
    async (
      flags: GrantFlags & {
        policy: string;
        pool: string;
        memberFormat: 'service-account' | 'principal';
        projectNumber?: string;
      },
    ) => {
      assertWorkloadIdentityPool(flags.pool, '--pool');
      const { projectNumber } = flags;
      if (projectNumber !== undefined) assertProjectNumber(projectNumber, '--project-number');
      if (flags.memberFormat === 'principal' && projectNumber === undefined) {
        throw new ValidationError('--member-format principal needs the GKE project number', {
          field: '--project-number',
        });
      }
      const grant = grantFrom(flags);
      // Checked here so the error names --policy; the planner checks again under its own name.
      const policy = asGcpPolicy(
        parseJsonInput(await readDocument(io, flags.policy, '--policy'), '--policy'),
        '--policy',
      );
      // With the project number known, a member someone added in the other form is recognised as granted.
      const memberFormat: GcpMemberFormat =
        projectNumber === undefined
          ? { kind: 'service-account' }
          : flags.memberFormat === 'principal'
            ? { kind: 'principal', projectNumber }
            : { kind: 'service-account', projectNumber };
      const plan = planGcpPolicy({ policy, grant, pool: flags.pool, memberFormat });
      printJson(io, { changed: plan.changed, added: plan.added, policy: plan.policy });
    },
  );
}

function azureCommand(io: CliIo): Command {
  const command = new Command('azure')
    .description('plan the federated identity credentials to create on a user-assigned managed identity')
    .requiredOption(
      '--credentials <file>',
      'existing credentials (`az identity federated-credential list`); - for stdin',
    )
    .requiredOption(
      '--issuer <url>',
      "the AKS cluster's OIDC issuer URL, exactly as in the token (keep a trailing slash)",
    )
    .option('--max-credentials <n>', 'federated credentials allowed per identity', positiveInt, AZURE_MAX_CREDENTIALS);
  addGrantOptions(command, { wildcard: false });
  return command.action(async (flags: GrantFlags & { credentials: string; issuer: string; maxCredentials: number }) => {
    assertIssuer(flags.issuer, '--issuer');
    const grant = grantFrom(flags);
    const existing = normalizeCredentials(
      parseJsonInput(await readDocument(io, flags.credentials, '--credentials'), '--credentials'),
      '--credentials',
    );
    const plan = planAzureCredentials({ existing, issuer: flags.issuer, grant, maxCredentials: flags.maxCredentials });
    printJson(io, { changed: plan.changed, added: plan.added, create: plan.create });
  });
}

export function planCommand(io: CliIo): Command {
  return new Command('plan')
    .description('compute the minimal change that authorizes a Deployment on one target; prints JSON, writes nothing')
    .addHelpText('after', VERSION_HELP)
    .addCommand(awsCommand(io))
    .addCommand(gcpCommand(io))
    .addCommand(azureCommand(io));
}
