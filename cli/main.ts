import { Command, CommanderError } from 'commander';
import { IdentitySyncError, UnsafePlanError } from '../shared/errors.ts';
import { APISERVER_HELP } from './apiserver-check.ts';
import { auditCommand } from './audit-command.ts';
import { CliExit, type CliIo, processIo } from './cli-io.ts';
import { EXIT_ATTENTION, EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, EXIT_UNSAFE } from './exit-codes.ts';
import { addGrantOptions, type GrantFlags, grantFrom } from './grant-options.ts';
import { planCommand } from './plan-commands.ts';
import { syncCommand } from './sync-command.ts';

function subjectsCommand(io: CliIo): Command {
  const command = new Command('subjects').description(
    "print the Deployment's Kubernetes subjects (system:serviceaccount:<ns>:<sa>), one per line, sorted",
  );
  addGrantOptions(command, { wildcard: false });
  command.addHelpText('after', APISERVER_HELP);
  return command.action((flags: GrantFlags) => {
    const grant = grantFrom(flags);
    io.stdout(grant.subjects.map((subject) => `${subject}\n`).join(''));
  });
}

function createProgram(io: CliIo, env: Readonly<Record<string, string | undefined>> = {}): Command {
  const program = new Command('astro-identity-sync')
    .description(
      'Authorize Astro Deployments (workload identity) on AWS IAM roles, GCP service accounts and Azure identities.',
    )
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .enablePositionalOptions();
  // Sub-commands inherit output and exit handling only when created after these settings, so add them last.
  program
    .addCommand(subjectsCommand(io))
    .addCommand(planCommand(io))
    .addCommand(syncCommand(io, env))
    .addCommand(auditCommand(io, env));
  for (const command of allCommands(program)) {
    command.configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) }).exitOverride();
  }
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

/**
 * The exit code of a typed error, by its classification: an outage is not a usage error, and a broken config file
 * is the caller's input here (in a function it is our setup).
 */
function exitCodeOf(error: IdentitySyncError): number {
  if (error instanceof UnsafePlanError) return EXIT_UNSAFE;
  if (error.retryable) return EXIT_UNAVAILABLE;
  if (error.status < 500 || error.code === 'invalid_config') return EXIT_INVALID;
  return EXIT_ATTENTION;
}

/**
 * Runs the CLI and returns the exit code: 0 success (also when nothing changes), 1 a target needs attention, 2 invalid
 * input, 3 a plan that cannot be applied safely, 4 a service was unavailable (retry later). On 2 and 3 stdout stays empty, so `... > plan.json` never captures half an answer.
 */
export async function main(
  argv: readonly string[],
  io: CliIo = processIo(),
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  const program = createProgram(io, env);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT_INVALID;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" only to commander.
      return error.exitCode === 0 ? EXIT_OK : EXIT_INVALID;
    }
    if (error instanceof CliExit) return error.code;
    if (error instanceof IdentitySyncError) {
      io.stderr(`error: ${error.message}\n`);
      return exitCodeOf(error);
    }
    io.stderr(`error: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
