import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, DIST_DIR, NODE_MAJOR, RUNTIMES } from '../../scripts/artifacts.ts';
import {
  type Block,
  bodyWithoutVariables,
  EXAMPLE_DIRS,
  expr,
  loadModule,
  loadTfvars,
  MODULE_DIRS,
  REPO,
  type TfModule,
  terraformDirs,
  varRefs,
} from './terraform-files.ts';

/** Structural checks every module and example must pass; what `terraform validate` would catch first, and more. */

const CLOUDS = ['aws', 'gcp', 'azure'] as const;
const modules = new Map<string, TfModule>();
const module = (dir: string): TfModule => {
  const found = modules.get(dir);
  if (found === undefined) throw new Error(`${dir} was not loaded`);
  return found;
};

beforeAll(async () => {
  for (const dir of terraformDirs()) modules.set(dir, await loadModule(dir));
});

describe('every Terraform directory', () => {
  it('holds the three modules and their examples', () => {
    expect(terraformDirs()).toEqual([...Object.values(MODULE_DIRS), ...Object.values(EXAMPLE_DIRS)].sort());
    for (const dir of Object.values(MODULE_DIRS)) {
      for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
        expect(existsSync(join(REPO, dir, file)), `${dir}/${file}`).toBe(true);
      }
    }
    for (const dir of Object.values(EXAMPLE_DIRS)) {
      for (const file of ['main.tf', 'terraform.tfvars.example']) {
        expect(existsSync(join(REPO, dir, file)), `${dir}/${file}`).toBe(true);
      }
    }
  });

  it.each(terraformDirs())(
    '%s: variables have a description and a type, are declared where referenced and used',
    (dir) => {
      const m = module(dir);
      for (const [name, block] of Object.entries(m.variables)) {
        expect(
          typeof block.description === 'string' && block.description.length > 10,
          `${dir} var.${name} description`,
        ).toBe(true);
        expect(block.type, `${dir} var.${name} type`).toBeDefined();
      }
      const declared = new Set(Object.keys(m.variables));
      const referenced = varRefs(m.files.map((f) => f.json));
      expect(
        [...referenced].filter((name) => !declared.has(name)),
        `${dir}: undeclared variables`,
      ).toEqual([]);
      const used = varRefs(bodyWithoutVariables(m));
      expect(
        [...declared].filter((name) => !used.has(name)),
        `${dir}: unused variables`,
      ).toEqual([]);
    },
  );

  it.each(terraformDirs())('%s: outputs have descriptions', (dir) => {
    for (const [name, block] of Object.entries(module(dir).outputs)) {
      expect(typeof block.description === 'string' && block.description.length > 10, `${dir} output ${name}`).toBe(
        true,
      );
    }
  });

  it.each(terraformDirs())('%s: pins every provider it uses with a version constraint', (dir) => {
    const m = module(dir);
    const required = Object.assign(
      {},
      ...m.terraform.flatMap((t) => (t.required_providers ?? []) as Block[]),
    ) as Record<string, { source?: string; version?: string }>;
    const used = new Set(
      [...Object.keys(m.resources), ...Object.keys(m.data)]
        .filter((type) => !type.startsWith('terraform_'))
        .map((type) => type.split('_')[0] ?? ''),
    );
    for (const provider of used) {
      expect(required[provider]?.source, `${dir}: ${provider} source`).toMatch(/^hashicorp\//);
      expect(required[provider]?.version, `${dir}: ${provider} version`).toMatch(/>=\s*\d+\.\d+/);
    }
    expect(m.terraform.some((t) => typeof t.required_version === 'string')).toBe(true);
  });
});

describe('examples', () => {
  it.each(CLOUDS)('%s: passes only declared module inputs, and every required one', async (cloud) => {
    const example = module(EXAMPLE_DIRS[cloud]);
    const target = module(MODULE_DIRS[cloud]);
    const calls = Object.entries(example.modules);
    expect(calls).toHaveLength(1);
    const [, call] = calls[0] as [string, Block];
    expect(resolve(REPO, EXAMPLE_DIRS[cloud], String(call.source))).toBe(resolve(REPO, MODULE_DIRS[cloud]));
    const meta = new Set(['source', 'version', 'providers', 'depends_on', 'count', 'for_each']);
    const passed = Object.keys(call).filter((key) => !meta.has(key));
    const declared = Object.keys(target.variables);
    expect(
      passed.filter((key) => !declared.includes(key)),
      'inputs the module does not declare',
    ).toEqual([]);
    const required = declared.filter((name) => !('default' in (target.variables[name] ?? {})));
    expect(
      required.filter((name) => !passed.includes(name)),
      'required inputs not passed',
    ).toEqual([]);
  });

  it.each(CLOUDS)(
    '%s: terraform.tfvars.example sets only declared variables, and every required one',
    async (cloud) => {
      const example = module(EXAMPLE_DIRS[cloud]);
      const tfvars = await loadTfvars(`${EXAMPLE_DIRS[cloud]}/terraform.tfvars.example`);
      const declared = Object.keys(example.variables);
      expect(Object.keys(tfvars).filter((key) => !declared.includes(key))).toEqual([]);
      const required = declared.filter((name) => !('default' in (example.variables[name] ?? {})));
      expect(required.filter((name) => !(name in tfvars))).toEqual([]);
    },
  );
});

describe('artifacts and runtimes', () => {
  it('each module reads the zips `npm run build` writes (scripts/artifacts.ts), under the default dist/', () => {
    for (const cloud of CLOUDS) {
      const m = module(MODULE_DIRS[cloud]);
      expect(expr(m.locals.dist_dir)).toBe(`coalesce(var.dist_dir, "\${path.module}/../../dist")`);
      expect(resolve(REPO, MODULE_DIRS[cloud], '../../dist')).toBe(resolve(REPO, DIST_DIR));
    }
    const zipOf = (value: unknown) => String(value).replace(`\${local.dist_dir}/`, '');
    const aws = module(MODULE_DIRS.aws).locals.artifacts as Record<string, string>;
    expect(Object.fromEntries(Object.entries(aws).map(([name, path]) => [name, zipOf(path)]))).toEqual(
      Object.fromEntries(ARTIFACTS.filter((a) => a.cloud === 'aws').map((a) => [a.name, a.zip])),
    );
    expect(Object.keys(module(MODULE_DIRS.aws).resources.aws_lambda_function ?? {})).toEqual(['this']);
    expect(Object.keys(module(MODULE_DIRS.aws).locals.functions as Block).sort()).toEqual(Object.keys(aws).sort());
    expect(zipOf(module(MODULE_DIRS.gcp).locals.source_zip)).toBe(ARTIFACTS.find((a) => a.cloud === 'gcp')?.zip);
    expect(zipOf(module(MODULE_DIRS.azure).locals.package_zip)).toBe(ARTIFACTS.find((a) => a.cloud === 'azure')?.zip);
  });

  it('deploys the Node.js major of scripts/artifacts.ts everywhere, which satisfies package.json engines', () => {
    const aws = module(MODULE_DIRS.aws);
    expect(aws.locals.runtime).toBe(RUNTIMES.aws);
    expect(aws.resources.aws_lambda_function?.this?.runtime).toBe(`\${local.runtime}`);
    expect(aws.resources.aws_lambda_function?.this?.architectures).toEqual(['arm64']);
    expect(aws.resources.aws_lambda_function?.this?.handler).toBe('index.handler');
    const gcp = module(MODULE_DIRS.gcp);
    expect(gcp.locals.runtime).toBe(RUNTIMES.gcp);
    for (const fn of Object.values(gcp.resources.google_cloudfunctions2_function ?? {})) {
      expect((fn.build_config as Block[] | undefined)?.[0]?.runtime).toBe(`\${local.runtime}`);
    }
    const azure = module(MODULE_DIRS.azure);
    expect(azure.locals.runtime_name).toBe('node');
    expect(azure.locals.runtime_version).toBe(RUNTIMES.azure);
    expect(azure.resources.azurerm_function_app_flex_consumption?.this?.runtime_version).toBe(
      `\${local.runtime_version}`,
    );

    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    expect(satisfiesMinimum(`${NODE_MAJOR}.0.0`, engines), `Node ${NODE_MAJOR} vs engines ${engines}`).toBe(true);
    expect(satisfiesMinimum('20.10.0', engines)).toBe(false);
  });
});

describe('module READMEs', () => {
  it.each(CLOUDS)('%s: document every input and output in their tables', (cloud) => {
    const m = module(MODULE_DIRS[cloud]);
    const readme = readFileSync(join(REPO, MODULE_DIRS[cloud], 'README.md'), 'utf8');
    const tables = readme.slice(readme.indexOf('## Inputs'));
    expect(tables).toContain('## Outputs');
    const rows = new Set([...tables.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|/gm)].map((match) => match[1]));
    expect(
      Object.keys(m.variables).filter((name) => !rows.has(name)),
      'inputs missing',
    ).toEqual([]);
    expect(
      Object.keys(m.outputs).filter((name) => !rows.has(name)),
      'outputs missing',
    ).toEqual([]);
    const documented = [...rows].filter((name) => name !== undefined && !(name in m.variables) && !(name in m.outputs));
    expect(documented, 'rows naming nothing the module has').toEqual([]);
  });

  it('infra/README.md indexes the modules and examples', () => {
    const index = readFileSync(join(REPO, 'infra/README.md'), 'utf8');
    for (const dir of [...Object.values(MODULE_DIRS), ...Object.values(EXAMPLE_DIRS)]) {
      expect(index).toContain(dir.replace(/^infra\//, ''));
    }
    expect(readdirSync(join(REPO, 'infra'))).toContain('README.md');
  });
});

/** `version` satisfies an engines range made of `>=X[.Y[.Z]]` (the only form package.json uses). */
function satisfiesMinimum(version: string, range: string): boolean {
  const match = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (match === null) throw new Error(`unsupported engines range "${range}"`);
  const want = [match[1], match[2], match[3]].map((n) => Number(n ?? 0));
  const have = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) > (want[i] ?? 0);
  }
  return true;
}
