import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readInputFile } from '../../cli/cli-io.ts';
import { main } from '../../cli/main.ts';

const BIN = fileURLToPath(new URL('../../bin/astro-identity-sync.js', import.meta.url));

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process (fast) with the same argument handling as the binary. */
export async function runCli(
  argv: string[],
  stdin = '',
  env?: Readonly<Record<string, string | undefined>>,
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    {
      stdout: (chunk) => {
        stdout += chunk;
      },
      stderr: (chunk) => {
        stderr += chunk;
      },
      readInput: (path, flag) => readInputFile(path, flag, async () => stdin),
    },
    env,
  );
  return { code, stdout, stderr };
}

/** Runs the real binary in a child process, as a user or a CI job would. */
export function runBinary(argv: string[], stdin?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...argv], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error && typeof error.code === 'number' ? error.code : error ? 1 : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}
