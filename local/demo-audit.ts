import { join } from 'node:path';
import { readInputFile } from '../cli/cli-io.ts';
import { main } from '../cli/main.ts';
import type { AwsStack } from './aws-stack.ts';
import { bold, verdict } from './demo-output.ts';
import { writeLocalSyncConfig } from './try-it.ts';

/** `audit` on the local AWS account after the samples: the table here, and the page written for a browser. */
export async function runAuditDemo(stack: AwsStack, cwd: string, organizationId: string): Promise<number> {
  console.log(bold('\n== audit: who can assume what on the emulated AWS account (read-only)'));
  const config = await writeLocalSyncConfig(cwd, organizationId);
  const page = join('.local-state', 'audit.html');
  let table = '';
  let errors = '';
  const io = {
    stdout: (chunk: string) => {
      table += chunk;
    },
    stderr: (chunk: string) => {
      errors += chunk;
    },
    readInput: (path: string, flag: string) => readInputFile(path, flag, async () => ''),
  };
  const shown = await main(['audit', '--config', config, '--format', 'table'], io, stack.env);
  console.log(table.replace(/^/gm, '  ').trimEnd());
  const written = await main(
    ['audit', '--config', config, '--format', 'html', '--out', join(cwd, page)],
    io,
    stack.env,
  );
  const ok = shown === 0 && written === 0;
  verdict(ok, `the audit page for the local stack: ${page} (open it in a browser)`);
  if (!ok) console.log(errors);
  return ok ? 0 : 1;
}
