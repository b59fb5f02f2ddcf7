import { writeFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { type Env, readSettings } from '../functions/common/env-settings.ts';
import { parseConfig } from '../shared/config-text.ts';
import { ValidationError } from '../shared/errors.ts';
import type { Deployment } from '../shared/intake/deployment.ts';
import { createAllowlists, resolveTargets, type Target } from '../shared/plan/targets.ts';
import { processBatch } from '../shared/reconcile/process-batch.ts';
import type { TargetInventory } from '../shared/reconcile/target-kind.ts';
import { type AuditTargetInput, buildAudit, renderAuditTable } from '../shared/report/audit.ts';
import { renderAuditHtml } from '../shared/report/audit-html.ts';
import type { EventReport } from '../shared/report/outcome.ts';
import type { CliIo } from './cli-io.ts';
import { workstationDeployments, workstationTargets } from './workstation-sources.ts';

interface AuditFlags {
  config: string;
  platform?: 'hosted' | 'software';
  format: 'table' | 'json' | 'html';
  out?: string;
}

const CHUNK = 25;

/** Every allowlisted target any Deployment (or rule) resolves to, with the owners the Deployments need on it. */
function targetsOf(config: ReturnType<typeof parseConfig>, deployments: readonly Deployment[]) {
  const allowlists = createAllowlists(config);
  const found = new Map<string, { target: Target; needed: Set<string> }>();
  for (const d of deployments) {
    for (const { target, denied } of resolveTargets(config, d, allowlists)) {
      if (denied !== undefined) continue;
      const key = `${target.kind}|${target.id}`;
      const entry = found.get(key) ?? { target, needed: new Set<string>() };
      for (const owner of [d.namespace, d.effectiveWorkloadIdentity, d.effectiveDRWorkloadIdentity]) {
        if (owner !== undefined) entry.needed.add(owner);
      }
      found.set(key, entry);
    }
  }
  return [...found.values()];
}

/**
 * `audit`: who can assume what, read-only. The Deployments and the targets are read as `sync` reads them, the plan
 * is a dry run (reads only), and each target's own entries are read once more for what no Deployment needs.
 */
export function auditCommand(io: CliIo, env: Env): Command {
  return new Command('audit')
    .description('report which Deployments each target trusts, what is stale and what is missing; read-only')
    .requiredOption('--config <file>', 'the config document (JSON or YAML); secrets as env:NAME')
    .addOption(
      new Option('--platform <platform>', 'Astro Hosted or Astronomer Software')
        .choices(['hosted', 'software'])
        .default('hosted'),
    )
    .addOption(new Option('--format <format>', 'output').choices(['table', 'json', 'html']).default('table'))
    .option('--out <file>', 'write the report to this file instead of stdout (the page for --format html)')
    .action(async (flags: AuditFlags) => {
      const config = parseConfig(await io.readInput(flags.config, '--config'));
      if (flags.platform !== 'software' && config.astro === undefined) {
        throw new ValidationError('audit reads Deployments from the Astro API: add the "astro" section', {
          field: 'astro',
        });
      }
      const settings = readSettings(env, { requireConfig: false });
      const deployments = await workstationDeployments(config, settings, { ...flags }, env, io);
      const targets = workstationTargets(config, settings);
      const reports: EventReport[] = [];
      for (let i = 0; i < deployments.length; i += CHUNK) {
        const chunk = deployments.slice(i, i + CHUNK).map((deployment) => ({
          eventId: `audit:${deployment.id}`,
          type: 'deployment.updated' as const,
          deployment,
        }));
        reports.push(...(await processBatch(chunk, { config, targets, dryRun: true })));
      }
      const inputs: AuditTargetInput[] = [];
      for (const { target, needed } of targetsOf(config, deployments)) {
        const handle = targets.bind(target);
        if (handle === undefined) continue;
        let inventory: TargetInventory | undefined;
        try {
          inventory = await handle.inventory();
        } catch (error) {
          io.stderr(`cannot read ${target.id} for stale entries: ${(error as Error).message}\n`);
        }
        inputs.push({
          cloud: target.cloud,
          target: target.id,
          ...(target.kind === 'aws-role' || target.kind === 'gcp-service-account' || target.kind === 'azure-identity'
            ? {}
            : { kind: target.kind }),
          owned: [...(inventory?.owned ?? [])],
          needed: [...needed],
          foreign: inventory?.foreign ?? [],
          ...(inventory?.usage === undefined ? {} : { usage: inventory.usage }),
        });
      }
      const report = buildAudit({
        reports,
        targets: inputs,
        astroNamespaces: deployments.map((d) => d.namespace),
        warnAtPercent: config.capacity.warnAtPercent,
        generatedAt: new Date().toISOString(),
      });
      const text =
        flags.format === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : flags.format === 'html'
            ? renderAuditHtml(report)
            : renderAuditTable(report);
      if (flags.out === undefined) {
        io.stdout(text);
        return;
      }
      await writeFile(flags.out, text, 'utf8');
      io.stderr(`wrote ${flags.out}\n`);
    });
}
