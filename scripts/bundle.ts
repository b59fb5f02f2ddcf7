import { type BuildOptions, build } from 'esbuild';
import { type Artifact, NODE_MAJOR } from './artifacts.ts';
import { lambdaEnvironmentCredentials, zodEnglishOnly } from './bundle-plugins.ts';

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
  readonly code: Uint8Array;
  readonly map: Uint8Array;
  /** Every input of this bundle (repository files and node_modules paths), from esbuild's metafile. */
  readonly inputs: readonly string[];
}

/**
 * One esbuild run for artifacts that share options (the four Lambda functions parse the AWS SDK once). Each output
 * is self-contained: no code splitting, so every zip holds one file of code.
 */
export function esbuildOptions(artifacts: readonly Artifact[], root: string): BuildOptions {
  const [first] = artifacts;
  if (first === undefined) throw new Error('nothing to bundle');
  return {
    absWorkingDir: root,
    entryPoints: artifacts.map((a) => ({ in: a.entry, out: `${a.name}/index` })),
    outdir: 'out',
    outExtension: { '.js': first.bundle.endsWith('.mjs') ? '.mjs' : '.js' },
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
    // Error and class names stay readable in logs and for libraries that read constructor names (~60 KB).
    keepNames: true,
    // Linked map without sources: stack traces map to file:line (NODE_OPTIONS=--enable-source-maps), the zip stays small.
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'eof',
    metafile: true,
    plugins: first.cloud === 'aws' ? [zodEnglishOnly, lambdaEnvironmentCredentials] : [zodEnglishOnly],
    logLevel: 'warning',
  };
}

/** Bundles artifacts that share a cloud (same bundle name and externals); answers them in the same order. */
export async function bundleGroup(artifacts: readonly Artifact[], root: string): Promise<Bundle[]> {
  const result = await build(esbuildOptions(artifacts, root));
  const outputs = result.metafile?.outputs ?? {};
  return artifacts.map((artifact) => {
    const suffix = `/${artifact.name}/${artifact.bundle}`;
    const code = result.outputFiles?.find((file) => file.path.endsWith(suffix));
    const map = result.outputFiles?.find((file) => file.path.endsWith(`${suffix}.map`));
    const meta = Object.entries(outputs).find(([path]) => `/${path}`.endsWith(suffix))?.[1];
    if (code === undefined || map === undefined || meta === undefined) {
      throw new Error(`esbuild wrote no bundle for ${artifact.entry}`);
    }
    return { code: code.contents, map: map.contents, inputs: Object.keys(meta.inputs) };
  });
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
