import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const ENGLISH = join(REPO, 'shared', 'zod-english.ts');

function sources(dir: string): string[] {
  return readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(REPO, dir, file));
}

const shipped = ['shared', 'functions', 'cli'].flatMap(sources);

/**
 * zod/mini registers no locale, so a schema module that does not load shared/zod-english.ts reports "Invalid input"
 * whenever it is the only one loaded; and one classic `zod` import brings its ~200 KiB back into every bundle.
 */
describe('zod in the shipped code', () => {
  it('is zod/mini only, never classic zod', () => {
    const classic = shipped.filter((file) => /from 'zod'/.test(readFileSync(file, 'utf8')));
    expect(classic.map((file) => relative(REPO, file))).toEqual([]);
  });

  it('loads English in every module that builds zod/mini schemas', () => {
    const schemaModules = shipped.filter((file) => readFileSync(file, 'utf8').includes("from 'zod/mini'"));
    expect(schemaModules.length).toBeGreaterThan(5);
    const missing = schemaModules.filter((file) => {
      if (file === ENGLISH) return false;
      const imports = [...readFileSync(file, 'utf8').matchAll(/^import '([^']+)';$/gm)];
      return !imports.some(([, path]) => path !== undefined && resolve(dirname(file), path) === ENGLISH);
    });
    expect(missing.map((file) => relative(REPO, file))).toEqual([]);
  });
});
