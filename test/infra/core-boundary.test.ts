import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from './terraform-files.ts';

const run = promisify(execFile);

/** The lint rule that keeps shared/ pure catches each kind of leak (and a clean file passes). */
describe('the core boundary is a lint rule', () => {
  it.each([
    ['a cloud SDK', "import { IAMClient } from '@aws-sdk/client-iam';\nexport const x = IAMClient;\n", /no cloud SDK/],
    [
      'an edge module',
      "import { silentLogger } from '../functions/common/logger.ts';\nexport const x = silentLogger;\n",
      /imports no edge/,
    ],
    ['process.env', 'export const x = process.env.HOME;\n', /noProcessEnv/],
    ['file I/O', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n", /no I\/O/],
  ])('refuses %s in shared/', async (_what, source, message) => {
    const file = join(REPO, 'shared', `lint-probe-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
    await writeFile(file, source);
    try {
      const result = await run(join(REPO, 'node_modules/.bin/biome'), ['lint', file], { cwd: REPO }).then(
        () => ({ code: 0, output: '' }),
        (error: { code: number; stdout: string; stderr: string }) => ({
          code: error.code,
          output: `${error.stdout}${error.stderr}`,
        }),
      );
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(message);
    } finally {
      await rm(file, { force: true });
    }
  });

  it('passes the core as it is', async () => {
    await expect(run(join(REPO, 'node_modules/.bin/biome'), ['lint', 'shared'], { cwd: REPO })).resolves.toBeDefined();
  });
});
