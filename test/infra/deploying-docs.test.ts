import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-text.ts';
import { createIntake } from '../../shared/intake/intake.ts';
import { EXAMPLE_DIRS, loadModule, MODULE_DIRS, REPO, type TfModule } from './terraform-files.ts';

/** The README's Deploying section and the example configs agree with the modules, and the sender script works. */

const run = promisify(execFile);
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## Deploying\n'), readme.indexOf('\n## Development\n'));
const PREFIX = 'astro-identity-sync';
const modules: Partial<Record<'aws' | 'gcp' | 'azure', TfModule>> = {};

beforeAll(async () => {
  for (const cloud of ['aws', 'gcp', 'azure'] as const) modules[cloud] = await loadModule(MODULE_DIRS[cloud]);
});

const locals = (cloud: 'aws' | 'gcp' | 'azure') => modules[cloud]?.locals ?? {};

function codeBlock(language: string, after: string): string {
  const start = section.indexOf(after);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(section.slice(start));
  if (start < 0 || match?.[1] === undefined) throw new Error(`no ${language} block after "${after}"`);
  return match[1];
}

describe('README: Deploying', () => {
  it('is one section, just before Development, with the commands for every cloud', () => {
    expect(readme.match(/^## Deploying$/gm)).toHaveLength(1);
    expect(section).toContain('npm ci && npm run build');
    for (const cloud of ['aws', 'gcp', 'azure'] as const) {
      expect(existsSync(join(REPO, EXAMPLE_DIRS[cloud]))).toBe(true);
      expect(section).toContain(`cd ${EXAMPLE_DIRS[cloud]}`);
    }
    expect(section.match(/terraform apply -var-file=terraform\.tfvars/g)?.length).toBeGreaterThanOrEqual(3);
    expect(section).toContain('"dryRun": true');
  });

  it('fills the secrets under the names the modules create', () => {
    const aws = Object.values(locals('aws').secret_names as Record<string, string>);
    const awsIds = [...section.matchAll(/--secret-id astro-identity-sync\/(\S+)/g)].map((m) => m[1]);
    expect(awsIds.sort()).toEqual([...aws].sort());
    const gcp = Object.values(locals('gcp').secret_ids as Record<string, string>).map((id) =>
      id.replace(`\${var.name_prefix}`, PREFIX),
    );
    const gcpIds = [...section.matchAll(/gcloud secrets versions add (\S+)/g)].map((m) => m[1]);
    expect(gcpIds.sort()).toEqual(gcp.sort());
    const azure = Object.values(locals('azure').secret_names as Record<string, string>).map((n) => `${PREFIX}-${n}`);
    const azureIds = [...section.matchAll(/az keyvault secret set --vault-name "\$VAULT" --name (\S+)/g)].map(
      (m) => m[1],
    );
    expect(azureIds.sort()).toEqual(azure.sort());
  });

  it('signs webhooks the way the functions verify them (the sender script, run against a verifier)', async () => {
    const secret = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
    const intake = createIntake({ webhookSecrets: [secret] });
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const verified = intake.webhook({
            method: req.method ?? 'GET',
            headers: req.headers,
            body: new Uint8Array(Buffer.concat(chunks)),
          });
          if (verified.duplicate) throw new Error('duplicate');
          received.push(verified.event);
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: verified.id }));
        } catch (error) {
          res.writeHead(401).end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      // Run as a file, as a sender would, next to a node_modules that holds standardwebhooks.
      const dir = mkdtempSync(join(tmpdir(), 'astro-identity-sync-sender-'));
      symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
      writeFileSync(join(dir, 'notify-astro-identity-sync.mjs'), codeBlock('js', '### Sending events'));
      const { stdout } = await run(
        process.execPath,
        ['notify-astro-identity-sync.mjs', 'dep123', 'deployment.updated'],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '',
            ASTRO_IDENTITY_SYNC_URL: url,
            WEBHOOK_SECRET: secret,
            ASTRO_ORGANIZATION_ID: 'org123',
          },
        },
      ).finally(() => rmSync(dir, { recursive: true, force: true }));
      expect(stdout).toMatch(/^202 /);
      expect(received).toHaveLength(1);
      const event = received[0] as { type: string; data: { organizationId: string; deploymentId: string } };
      expect(event.type).toBe('deployment.updated');
      expect(event.data).toMatchObject({ organizationId: 'org123', deploymentId: 'dep123' });
    } finally {
      server.close();
    }
  });
});

describe('example configs', () => {
  it.each(['aws', 'gcp', 'azure'] as const)('%s: parse and reference only secrets the module provides', (cloud) => {
    const text = readFileSync(join(REPO, EXAMPLE_DIRS[cloud], 'astro-identity-sync.example.yaml'), 'utf8');
    expect(() => parseConfig(text)).not.toThrow();
    const refs = [...text.matchAll(/\b(aws-sm|env):([\w/.-]+)/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(refs.length).toBeGreaterThanOrEqual(4);
    const provided =
      cloud === 'aws'
        ? Object.values(locals('aws').secret_names as Record<string, string>).map((n) => `aws-sm:${PREFIX}/${n}`)
        : Object.values(
            locals(cloud)[cloud === 'gcp' ? 'secret_env_names' : 'secret_setting_names'] as Record<string, string>,
          ).map((n) => `env:${n}`);
    expect(refs.filter((ref) => !provided.includes(ref))).toEqual([]);
  });
});
