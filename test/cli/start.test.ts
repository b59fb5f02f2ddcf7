import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { signWebhook } from '../../shared/intake/webhook-signer.ts';

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
  expect(run.stdout).toContain('granted: the queue trigger took the message from Azurite');
  expect(run.stdout).toContain(
    'granted: the role trusts the primary and the DR cluster; the missing OIDC provider was created',
  );
  expect(run.stdout).toContain('DR: added 6 subjects');
  expect(run.stdout).toContain(
    "granted: the shared role trusts the Deployment's Astro-managed role (Principal.AWS, sts:AssumeRole)",
  );
  expect(run.stdout).toContain(
    'granted: roles/iam.serviceAccountTokenCreator for the Deployment’s Astro-managed service account',
  );
  expect(run.stdout).toContain(
    'granted: two project roles for the Astro-managed service account; the owner, the conditional binding and audit configs kept',
  );
  expect(run.stdout.match(/Slack \(#platform-iam\)/g)).toHaveLength(12);
  expect(run.stdout).toContain(
    'granted: the role trusts the chart service accounts (<release>-airflow-<component>) of the Software Deployment',
  );
  expect(run.stdout).toContain(
    'granted: roles/iam.workloadIdentityUser for the chart service accounts in the GKE pool',
  );
  expect(run.stdout).toContain('granted: the audit page for the local stack: .local-state/audit.html');
  expect(run.stdout).toMatch(/trusts {3}etl-prod \(nebular-gravity-1234\)/);
  expect(run.stdout).toContain('"Sid": "GithubActions"');
  // A capacity line under every target the samples granted, and the DR role's crossing said in its Slack message.
  expect(run.stdout.match(/^ {2}capacity: .+ \d+\/\d+ (characters|members|credentials) \([\d.]+%\)$/gm)?.length).toBe(
    12,
  );
  expect(run.stdout).toMatch(/capacity: role astro-orders \d+\/2048 characters \(9\d(\.\d)?%\)/);
  expect(run.stdout).toContain('📈 *Capacity:*');
  expect(run.stdout).toContain('All samples granted and reported.');
}, 90_000);

/** Resolves with everything printed once `text` appears (or rejects when the process ends first). */
function waitFor(child: ChildProcess, text: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(text)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before "${text}":\n${out}`));
    });
  });
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

it('npm start serves: the printed sync command works, one secret serves every function, SIGTERM frees every port', async () => {
  // Through npm itself, as a person runs it: the signal has to reach the stack through npm and tsx.
  const child = spawn('npm', ['start', '--', '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const out = await waitFor(child, 'Serving;', 90_000);
    const ports = [...out.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
    expect(ports.length).toBeGreaterThanOrEqual(6);

    // The backfill command, exactly as printed (environment assignments, then the CLI).
    const command = /(ASTRO_API_TOKEN=[\s\S]*?--all)\n/.exec(out)?.[1] ?? '';
    const env = Object.fromEntries([...command.matchAll(/(\w+)='([^']*)'/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
    const config = /--config (\S+)/.exec(command)?.[1] ?? '';
    const sync = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['bin/astro-identity-sync.js', 'sync', '--config', config, '--all'],
        { cwd: root, env: { ...process.env, ...env }, timeout: 60_000 },
        (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
      );
    });
    expect(sync.code, sync.stdout).toBe(0);
    expect(sync.stdout).toMatch(
      /etl-prod \(nebular-gravity-1234\)\n {2}aws arn:aws:iam::123456789012:role\/astro-data: already up to date \(6 subjects present\)/,
    );

    // One webhook secret for every function: the GCP and Azure webhooks accept what the printed secret signs.
    const secret = /Webhook secret \(every function\): (whsec_\S+)/.exec(out)?.[1] ?? '';
    const gcpUrl = /GCP HTTP function:\s+(\S+)/.exec(out)?.[1] ?? '';
    const azureUrl = /Azure function app:\s+(\S+)/.exec(out)?.[1] ?? '';
    for (const url of [`${gcpUrl}/`, `${azureUrl}/api/webhook`]) {
      const body = JSON.stringify({ type: 'deployment.updated', timestamp: new Date().toISOString(), data: {} });
      const response = await fetch(url, {
        method: 'POST',
        headers: signWebhook({ secret, id: 'msg_one_secret', body }),
        body,
      });
      // Signed with the right secret: past authentication, refused only for the empty event.
      expect(response.status, url).toBe(400);
    }

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    await exited;
    // Every server and emulator is gone, Azurite included.
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const port of ports) expect(await refused(port), `port ${port}`).toBe(true);
  } finally {
    child.kill('SIGKILL');
  }
}, 180_000);
