import { join, relative } from 'node:path';
import { type BuildOptions, build } from 'esbuild';
import { type Artifact, NODE_MAJOR } from './artifacts.ts';
import { lambdaEnvironmentCredentials, pinoWithoutTransports, zodEnglishOnly } from './bundle-plugins.ts';

/**
 * ESM output still carries CommonJS dependencies (the AWS SDK's and Google's transitive packages, @azure/functions)
 * that call `require` for Node built-ins; esbuild's shim only works where `require` exists, so the banner defines it,
 * and `__dirname` / `__filename`, which some of them (pino's transports) read.
 */
const CJS_BANNER = [
  'import{createRequire as __astroCreateRequire}from"node:module";',
  'import{fileURLToPath as __astroFileURLToPath}from"node:url";',
  'const require=__astroCreateRequire(import.meta.url);',
  'const __filename=__astroFileURLToPath(import.meta.url);',
  'const __dirname=__astroFileURLToPath(new URL(".",import.meta.url));',
].join('');

export interface Bundle {
  /** Every file of the bundle, by its path inside the artifact: the entry, its chunks, and their source maps. */
  readonly files: Readonly<Record<string, Uint8Array>>;
  /** The entry file's code. */
  readonly code: Uint8Array;
  /** Code the entry loads when the module is imported: the entry and the chunks it imports statically. */
  readonly startBytes: number;
  /** All code in the bundle, the chunks loaded on first use (`import()`) included. */
  readonly totalBytes: number;
  /** Every input of the bundle (repository files and node_modules paths), from esbuild's metafile. */
  readonly inputs: readonly string[];
  /** The inputs of the code loaded at start (the entry and its static chunks). */
  readonly startInputs: readonly string[];
}

/**
 * One esbuild run per artifact, with code splitting: what a path needs only sometimes (the Slack SDK until a message
 * is sent, the SSM and Secrets Manager clients until a reference names them) sits in a chunk that `import()` loads
 * on first use, so a cold start evaluates only what every invocation needs. The entry is `index.mjs` (or `.js`) at
 * the root of the artifact and its chunks are under `chunks/`.
 */
export function esbuildOptions(artifacts: readonly Artifact[], root: string): BuildOptions {
  const [first] = artifacts;
  if (first === undefined) throw new Error('nothing to bundle');
  return {
    absWorkingDir: root,
    entryPoints: artifacts.map((a) => ({ in: a.entry, out: 'index' })),
    outdir: 'out',
    outExtension: { '.js': first.bundle.endsWith('.mjs') ? '.mjs' : '.js' },
    chunkNames: 'chunks/[name]-[hash]',
    splitting: true,
    bundle: true,
    write: false,
    platform: 'node',
    target: `node${NODE_MAJOR}`,
    format: 'esm',
    // ESM builds of dependencies first: they tree-shake (measured: the AWS SDK's dist-es saves ~430 KB per Lambda).
    mainFields: ['module', 'main'],
    banner: { js: CJS_BANNER },
    external: [...first.external],
    minify: true,
    treeShaking: true,
    // keepNames wraps every function and class in a name-setting call: about 18 KiB of the webhook's start code and
    // 26 KiB of a writer's, and as many defineProperty calls at load. The AWS bundles go without it: our errors name
    // themselves (shared/errors.ts) and their bundled packages set error names explicitly, reading constructor names
    // only for messages. The GCP and Azure bundles carry many more packages, not checked for this: they keep names.
    keepNames: first.cloud !== 'aws',
    // Linked map without sources: stack traces map to file:line (NODE_OPTIONS=--enable-source-maps), the zip stays small.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'eof',
    metafile: true,
    plugins:
      first.cloud === 'aws' ? [zodEnglishOnly, lambdaEnvironmentCredentials] : [zodEnglishOnly, pinoWithoutTransports],
    logLevel: 'warning',
  };
}

/** Bundles one artifact: its entry, its chunks, and which of them load at start. */
export async function bundleArtifact(artifact: Artifact, root: string): Promise<Bundle> {
  const result = await build(esbuildOptions([artifact], root));
  const outputs = result.metafile?.outputs ?? {};
  const outDir = join(root, 'out');
  const files: Record<string, Uint8Array> = {};
  for (const file of result.outputFiles ?? []) files[relative(outDir, file.path)] = withoutIdleBanner(file.contents);
  const code = files[artifact.bundle];
  if (code === undefined) throw new Error(`esbuild wrote no bundle for ${artifact.entry}`);
  const byPath = new Map(Object.entries(outputs).map(([path, meta]) => [relative('out', path), meta]));
  // The start set: the entry and everything it reaches through static imports (not `import()`).
  const start = new Set<string>();
  const visit = (path: string) => {
    if (start.has(path)) return;
    start.add(path);
    for (const imported of byPath.get(path)?.imports ?? []) {
      if (imported.kind === 'import-statement' && !imported.external) visit(relative('out', imported.path));
    }
  };
  visit(artifact.bundle);
  const codeFiles = [...byPath.keys()].filter((path) => !path.endsWith('.map'));
  const size = (paths: Iterable<string>) => [...paths].reduce((sum, path) => sum + (files[path]?.byteLength ?? 0), 0);
  const inputsOf = (paths: readonly string[]) =>
    new Set(paths.flatMap((path) => Object.keys(byPath.get(path)?.inputs ?? {})));
  return {
    files,
    code,
    startBytes: size(start),
    totalBytes: size(codeFiles),
    inputs: [...inputsOf(codeFiles)],
    startInputs: [...inputsOf([...start])],
  };
}

/**
 * esbuild puts the banner on every output file, and most chunks (the SDK's ESM builds, our code) never use what it
 * defines: in those it is only bytes to read and a `createRequire` to run, about 330 bytes per chunk. It is blanked
 * where the chunk names none of `require`, `__filename` and `__dirname`, keeping its line so that the source map's
 * lines still match.
 */
export function withoutIdleBanner(contents: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(contents);
  if (!text.startsWith(`${CJS_BANNER}\n`)) return contents;
  const rest = text.slice(CJS_BANNER.length);
  return /\b(?:require|__filename|__dirname)\b/.test(rest) ? contents : new TextEncoder().encode(rest);
}

/** Repository files and npm packages that went into a bundle. */
export function bundleInputs(inputs: readonly string[]): { sources: string[]; packages: string[] } {
  const sources = new Set<string>();
  const packages = new Set<string>();
  for (const input of inputs) {
    const match = /(?:^|[/:])node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match?.[1] !== undefined) packages.add(match[1]);
    else if (!input.includes(':')) sources.add(input);
  }
  return { sources: [...sources].sort(), packages: [...packages].sort() };
}
