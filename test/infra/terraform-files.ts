import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

/**
 * Terraform read the way the checks need it: every .tf file of a directory parsed with hcl2json (HCL to JSON; every
 * expression becomes a "${...}" string) and merged per block kind.
 */

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
const INFRA = join(REPO, 'infra');
export const MODULE_DIRS = { aws: 'infra/aws', gcp: 'infra/gcp', azure: 'infra/azure' } as const;
export const EXAMPLE_DIRS = {
  aws: 'infra/examples/aws',
  gcp: 'infra/examples/gcp',
  azure: 'infra/examples/azure',
} as const;

export type Block = Record<string, unknown>;

export interface TfModule {
  readonly dir: string;
  readonly files: ReadonlyArray<{ readonly name: string; readonly json: Record<string, unknown> }>;
  readonly variables: Record<string, Block>;
  readonly outputs: Record<string, Block>;
  readonly locals: Block;
  /** `resources[type][name]` (and `data[type][name]`): the block's arguments. */
  readonly resources: Record<string, Record<string, Block>>;
  readonly data: Record<string, Record<string, Block>>;
  readonly modules: Record<string, Block>;
  readonly terraform: Block[];
}

function first(value: unknown): Block {
  return (Array.isArray(value) ? value[0] : value) as Block;
}

function mergeNamed(target: Record<string, Block>, section: unknown): void {
  for (const [name, blocks] of Object.entries((section ?? {}) as Record<string, unknown>)) target[name] = first(blocks);
}

function mergeTyped(target: Record<string, Record<string, Block>>, section: unknown): void {
  for (const [type, byName] of Object.entries((section ?? {}) as Record<string, unknown>)) {
    target[type] ??= {};
    mergeNamed(target[type], byName);
  }
}

export async function loadModule(dir: string): Promise<TfModule> {
  const abs = join(REPO, dir);
  const names = readdirSync(abs)
    .filter((name) => name.endsWith('.tf'))
    .sort();
  const files = await Promise.all(
    names.map(async (name) => ({ name, json: await parse(name, readFileSync(join(abs, name), 'utf8')) })),
  );
  const module: TfModule = {
    dir,
    files,
    variables: {},
    outputs: {},
    locals: {},
    resources: {},
    data: {},
    modules: {},
    terraform: [],
  };
  for (const { json } of files) {
    mergeNamed(module.variables, json.variable);
    mergeNamed(module.outputs, json.output);
    mergeNamed(module.modules, json.module);
    mergeTyped(module.resources, json.resource);
    mergeTyped(module.data, json.data);
    for (const locals of (json.locals ?? []) as Block[]) Object.assign(module.locals, locals);
    module.terraform.push(...((json.terraform ?? []) as Block[]));
  }
  return module;
}

/** Parses a .tfvars file (plain attributes). */
export async function loadTfvars(path: string): Promise<Block> {
  return (await parse('terraform.tfvars', readFileSync(join(REPO, path), 'utf8'))) as Block;
}

/** `var.X` names in any JSON value (expressions are strings). */
export function varRefs(value: unknown): Set<string> {
  const refs = new Set<string>();
  for (const match of JSON.stringify(value ?? null).matchAll(/\bvar\.([A-Za-z_][A-Za-z0-9_-]*)/g)) {
    if (match[1] !== undefined) refs.add(match[1]);
  }
  return refs;
}

/** The module's blocks other than `variable`: where a variable counts as used. */
export function bodyWithoutVariables(module: TfModule): unknown[] {
  return module.files.map(({ json }) => {
    const { variable: _variable, ...rest } = json;
    return rest;
  });
}

/** All `.tf` directories under infra/ (modules and examples). */
export function terraformDirs(): string[] {
  const dirs: string[] = [];
  const walk = (abs: string) => {
    const entries = readdirSync(abs, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith('.tf'))) dirs.push(relative(REPO, abs));
    for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) walk(join(abs, e.name));
  };
  walk(INFRA);
  return dirs.sort();
}

/** Unwraps a whole-expression string: "${var.x}" -> "var.x"; anything else is returned as is. */
export function expr(value: unknown): string {
  if (typeof value !== 'string') return JSON.stringify(value);
  const match = /^\$\{([\s\S]*)\}$/.exec(value);
  return match?.[1] ?? value;
}

/** A list argument, or a single expression standing for a list. */
export function list(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map((v) => String(v));
}
