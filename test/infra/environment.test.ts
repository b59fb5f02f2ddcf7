import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT, readSettings } from '../../functions/common/env-settings.ts';
import { ValidationError } from '../../shared/errors.ts';
import { tsFilesUnder } from './code-permissions.ts';
import { REPO } from './terraform-files.ts';

const ENTRY_POINTS = new Set([
  'functions/aws/webhook.ts',
  'functions/aws/reconciler.ts',
  'functions/aws/manual.ts',
  'functions/aws/scheduled.ts',
  'functions/gcp/index.ts',
  'functions/azure/index.ts',
]);

describe('the environment the functions read is declared in one place', () => {
  it('reads process.env only in the entry points, and each variable by name only in env-settings.ts', () => {
    for (const file of tsFilesUnder('functions')) {
      const code = readFileSync(join(REPO, file), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (!ENTRY_POINTS.has(file)) expect(code, file).not.toMatch(/process\.env/);
      if (file === 'functions/common/env-settings.ts') continue;
      for (const name of Object.keys(ENVIRONMENT)) {
        expect(code, `${file} reads ${name}`).not.toMatch(new RegExp(`env(\\.|\\[['"])${name}\\b`));
      }
    }
  });

  it('lists every variable in the README with the meaning the code gives it', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    for (const [name, { meaning }] of Object.entries(ENVIRONMENT)) {
      expect(readme, name).toContain(`| \`${name}\` |`);
      expect(readme, name).toContain(`| ${meaning} |`);
    }
  });

  it.each([
    ['LOG_LEVEL', 'LOUD'],
    ['ASTRO_IDENTITY_SYNC_AZURE_ENDPOINT', 'http://127.0.0.1:1'],
    ['ASTRO_IDENTITY_SYNC_AZURE_MAX_RETRIES', '11'],
    ['ASTRO_IDENTITY_SYNC_GCP_RETRY_DELAY_MS', 'soon'],
  ])('refuses %s=%s as a config error naming the variable', (name, value) => {
    try {
      readSettings({ ASTRO_IDENTITY_SYNC_CONFIG: '{}', [name]: value });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ code: 'invalid_config' });
      expect((error as Error).message).toContain(name);
    }
  });

  it('requires the config, and reads the defaults the README states', () => {
    expect(() => readSettings({})).toThrow(/ASTRO_IDENTITY_SYNC_CONFIG is not set/);
    const settings = readSettings({ ASTRO_IDENTITY_SYNC_CONFIG: '{}' });
    expect(settings).toMatchObject({
      logLevel: 'INFO',
      aws: { region: 'us-east-1' },
      azure: { queueName: 'astro-identity-sync-events', queueConnection: 'AzureWebJobsStorage' },
    });
  });
});
