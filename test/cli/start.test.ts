import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

it('npm start -- --once grants every sample, shows every Slack message and exits 0', async () => {
  const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(
      process.execPath,
      [tsx, 'local/start.ts', '--once', '--port', '0'],
      { cwd: root, timeout: 60_000 },
      (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });
  expect(run.code).toBe(0);
  expect(run.stdout.match(/granted: the role trusts every service account/g)).toHaveLength(2);
  expect(run.stdout).toContain('granted: roles/iam.workloadIdentityUser for every service account');
  expect(run.stdout).toContain('granted: picked up by the poller, without any webhook');
  expect(run.stdout).toContain('granted: one federated credential per service account');
  expect(run.stdout.match(/Slack \(#platform-iam\)/g)).toHaveLength(5);
  expect(run.stdout).toContain('"Sid": "GithubActions"');
  expect(run.stdout).toContain('All samples granted and reported.');
}, 90_000);
