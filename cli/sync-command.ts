import { Command, Option } from 'commander';
import { type Env, readSettings } from '../functions/common/env-settings.ts';
import { parseConfig } from '../shared/config-text.ts';
import { ValidationError } from '../shared/errors.ts';
import { processBatch } from '../shared/reconcile/process-batch.ts';
import { aboveThreshold, formatUsage, targetCapacities } from '../shared/report/capacity.ts';
import { type EventReport, FAILURE_STATUSES } from '../shared/report/outcome.ts';
import { kindLabel, outcomeLine } from '../shared/report/target-section.ts';
import { apiserverCheck } from './apiserver-check.ts';
import { CliExit, type CliIo } from './cli-io.ts';
import { EXIT_ATTENTION } from './exit-codes.ts';
import { workstationDeployments, workstationTargets } from './workstation-sources.ts';

const CHUNK = 25;

interface SyncFlags {
  config: string;
  deployment?: string;
  all?: boolean;
  apply?: boolean;
  json?: boolean;
  leaseTable?: string;
  withoutLease?: boolean;
  platform?: 'hosted' | 'software';
}

/** Readable per-target lines: the same outcome words as Slack (kind, DR, removed entries), then what to do. */
function render(report: EventReport, apply: boolean): string {
  const lines = [`${report.deployment.name} (${report.deployment.namespace})`];
  for (const r of report.results) {
    const label = kindLabel(r);
    lines.push(`  ${r.cloud} ${r.target}${label === undefined ? '' : ` (${label})`}: ${outcomeLine(r)}`);
    if (r.status === 'planned' || r.status === 'granted' || r.status === 'blocked') {
      for (const entry of r.added) lines.push(`    + ${entry}`);
    }
    for (const entry of r.blocked ?? []) lines.push(`    ! ${entry} (blocked)`);
    if (r.status === 'planned' || r.status === 'revoked' || r.status === 'stale') {
      for (const entry of r.removed) lines.push(`    - ${entry}`);
    }
    for (const note of r.notes ?? []) lines.push(`    note: ${note}`);
    for (const remedy of r.remedies ?? []) lines.push(`    fix: ${remedy}`);
    if (r.usage !== undefined)
      lines.push(`    usage: ${formatUsage(r.usage)}${r.status === 'planned' ? ' once applied' : ''}`);
    const warning = r.capacityWarning;
    if (warning !== undefined) {
      const room =
        warning.headroom === undefined ? '' : `; about ${warning.headroom} more Deployment(s) of this shape fit`;
      lines.push(`    capacity: at or above ${warning.threshold}%${room}`);
      for (const remedy of warning.remedies) lines.push(`    fix: ${remedy}`);
    }
  }
  if (!apply && report.results.some((r) => r.status === 'planned')) lines.push('  (plan only: run again with --apply)');
  return `${lines.join('\n')}\n`;
}

export function syncCommand(io: CliIo, env: Env): Command {
  return new Command('sync')
    .description(
      'reconcile Deployments from the Astro API with local credentials: a plan by default, changes with --apply',
    )
    .requiredOption('--config <file>', 'the config document (JSON or YAML); secrets as env:NAME')
    .option('--deployment <id>', 'one Deployment')
    .option('--all', 'every Deployment in the configured organization (and workspaces)')
    .addOption(
      new Option('--platform <platform>', 'Astro Hosted (the Astro API) or Astronomer Software (Houston)')
        .choices(['hosted', 'software'])
        .default('hosted'),
    )
    .option('--apply', 'make the changes (default: print the plan and write nothing)')
    .option('--json', 'print the reports as JSON instead of a readable diff')
    .option(
      '--lease-table <name>',
      "the functions' DynamoDB lease table (terraform output lease_table_name; default $ASTRO_IDENTITY_SYNC_LEASE_TABLE): --apply then takes each role's lease as the functions do",
    )
    .option('--without-lease', 'write IAM roles without the lease table (only when no function is deployed)')
    .action(async (flags: SyncFlags) => {
      if ((flags.deployment === undefined) === (flags.all !== true)) {
        throw new ValidationError('give exactly one of --deployment ID or --all', { field: '--deployment' });
      }
      const config = parseConfig(await io.readInput(flags.config, '--config'));
      const software = flags.platform === 'software';
      if (!software && config.astro === undefined)
        throw new ValidationError('sync reads Deployments from the Astro API: add the "astro" section', {
          field: 'astro',
        });
      if (software && config.software?.token === undefined)
        throw new ValidationError(
          'sync --platform software reads Houston: add software.baseDomain and software.token',
          {
            field: 'software',
          },
        );
      // The same settings the functions read: emulator endpoints locally, nothing on a workstation.
      const settings = readSettings(
        flags.leaseTable === undefined ? env : { ...env, ASTRO_IDENTITY_SYNC_LEASE_TABLE: flags.leaseTable },
        { requireConfig: false },
      );
      if (flags.apply && config.aws.allowedRoles.length > 0 && settings.aws.leaseTable === undefined) {
        // IAM has no etag: without the functions' lease, a write from here can erase one of theirs (and vice versa).
        if (flags.withoutLease !== true) {
          throw new ValidationError(
            "writes to IAM roles must take the deployed functions' lease: pass --lease-table $(terraform output -raw lease_table_name), or --without-lease when no function is deployed",
            { field: '--lease-table' },
          );
        }
        io.stderr('warning: --without-lease: writes to IAM roles are not serialized with any deployed function\n');
      }
      const deployments = await workstationDeployments(config, settings, flags, env, io);
      const targets = workstationTargets(config, settings);
      const reports: EventReport[] = [];
      for (let i = 0; i < deployments.length; i += CHUNK) {
        const chunk = deployments
          .slice(i, i + CHUNK)
          .map((deployment) => ({ eventId: `sync:${deployment.id}`, type: 'deployment.updated' as const, deployment }));
        reports.push(...(await processBatch(chunk, { config, targets, dryRun: flags.apply !== true })));
        if (deployments.length > CHUNK)
          io.stderr(`[${Math.min(i + CHUNK, deployments.length)}/${deployments.length}] Deployments\n`);
      }
      io.stdout(
        flags.json
          ? `${JSON.stringify(reports, null, 2)}\n`
          : reports.map((r) => render(r, flags.apply === true)).join(''),
      );
      // The fullest targets once more at the end: per-target lines scroll past in a backfill of hundreds.
      const { warnAtPercent } = config.capacity;
      const full = targetCapacities(reports.flatMap((r) => r.results)).filter((t) =>
        aboveThreshold(t.usage, warnAtPercent),
      );
      const planned = reports.some((r) => r.results.some((result) => result.status === 'planned'));
      if (full.length > 0 && !flags.json) {
        io.stderr(
          `capacity: ${full.length} target(s) at or above ${warnAtPercent}%${planned ? ' once applied' : ''}:\n${full
            .map((t) => `  ${t.cloud} ${t.target}: ${formatUsage(t.usage)}\n`)
            .join('')}`,
        );
      }
      const check = apiserverCheck(config, deployments);
      if (check !== undefined) io.stderr(`${check}\n`);
      const failed = reports.flatMap((r) => r.results).filter((r) => FAILURE_STATUSES.has(r.status)).length;
      if (failed > 0) {
        io.stderr(`${failed} target(s) need attention (see above)\n`);
        throw new CliExit(EXIT_ATTENTION);
      }
    });
}
