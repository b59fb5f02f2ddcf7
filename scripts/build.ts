/**
 * `npm run build`: one esbuild bundle per deployable, packaged as the zip each platform takes, plus
 * dist/build-manifest.json (entry -> zip, bytes, sha256) and a size table. `BUILD_ONLY=aws/webhook,gcp` narrows the
 * artifacts (ids or clouds); the default builds all of them and fails, naming them, when entry points are missing.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ARTIFACTS,
  type Artifact,
  type BuildManifest,
  DIST_DIR,
  MANIFEST_FILE,
  type ManifestEntry,
  NODE_MAJOR,
} from './artifacts.ts';
import { type Bundle, bundleArtifact, bundleInputs } from './bundle.ts';
import { deterministicZip } from './deterministic-zip.ts';
import { packageFiles, type RootPackage } from './package-files.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The goal for one Lambda function's minified bundle. */
export const LAMBDA_BUNDLE_BUDGET = 1024 * 1024;

export function selectArtifacts(only: string | undefined): Artifact[] {
  const wanted = (only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (wanted.length === 0) return [...ARTIFACTS];
  const unknown = wanted.filter((w) => !ARTIFACTS.some((a) => a.id === w || a.cloud === w));
  if (unknown.length > 0) {
    throw new Error(
      `BUILD_ONLY names unknown artifacts: ${unknown.join(', ')} (known: ${ARTIFACTS.map((a) => a.id).join(', ')})`,
    );
  }
  return ARTIFACTS.filter((a) => wanted.includes(a.id) || wanted.includes(a.cloud));
}

function sha256(bytes: Uint8Array, encoding: 'hex' | 'base64'): string {
  return createHash('sha256').update(bytes).digest(encoding);
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

async function packageArtifact(artifact: Artifact, built: Bundle, root: RootPackage): Promise<ManifestEntry> {
  const { code, inputs } = built;
  const files: Record<string, Uint8Array | string> = { ...built.files, ...packageFiles(artifact, root) };
  // The unpacked directory (for inspection and local runs) and the zip the platform takes.
  const dir = join(ROOT, DIST_DIR, artifact.cloud, artifact.name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true }); // also creates dist/<cloud> for the zip
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), content);
  }
  const zip = deterministicZip(files);
  const zipPath = join(ROOT, DIST_DIR, artifact.zip);
  await writeFile(zipPath, zip);
  const { sources, packages } = bundleInputs(inputs);
  const atStart = bundleInputs(built.startInputs);
  return {
    id: artifact.id,
    cloud: artifact.cloud,
    file: relative(ROOT, zipPath),
    bytes: zip.byteLength,
    sha256: sha256(zip, 'hex'),
    base64sha256: sha256(zip, 'base64'),
    bundle: {
      file: relative(ROOT, join(dir, artifact.bundle)),
      bytes: built.startBytes,
      totalBytes: built.totalBytes,
      sha256: sha256(code, 'hex'),
    },
    sources,
    packages,
    start: { sources: atStart.sources, packages: atStart.packages },
  };
}

function printTable(entries: readonly ManifestEntry[]): void {
  const rows = entries.map((e) => {
    const over = e.cloud === 'aws' && e.bundle.totalBytes > LAMBDA_BUNDLE_BUDGET ? ' (over 1 MiB)' : '';
    return [e.id, kib(e.bundle.bytes), kib(e.bundle.totalBytes) + over, kib(e.bytes), e.file];
  });
  const table = [['artifact', 'bundle (minified) loaded at start', 'all code', 'zip', 'file'], ...rows];
  const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  for (const row of table) console.log(row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  '));
}

/** Why the selected artifacts cannot be built (entry points that do not exist yet), or undefined. */
export function missingEntriesMessage(artifacts: readonly Artifact[], root = ROOT): string | undefined {
  const missing = artifacts.filter((a) => !existsSync(join(root, a.entry)));
  if (missing.length === 0) return undefined;
  const others = artifacts.filter((a) => !missing.includes(a)).map((a) => a.id);
  return (
    `build: missing entry point(s): ${missing.map((a) => `${a.entry} (${a.id})`).join(', ')}.\n` +
    'Every deployable is built by default' +
    (others.length > 0 ? `; to build the others meanwhile: BUILD_ONLY=${others.join(',')} npm run build` : '.')
  );
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const artifacts = selectArtifacts(env.BUILD_ONLY);
  const missing = missingEntriesMessage(artifacts);
  if (missing !== undefined) {
    console.error(missing);
    return 1;
  }
  const partial = artifacts.length < ARTIFACTS.length;
  if (!partial) await rm(join(ROOT, DIST_DIR), { recursive: true, force: true });
  const root = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as RootPackage;
  const built = await Promise.all(
    artifacts.map(async (artifact) => packageArtifact(artifact, await bundleArtifact(artifact, ROOT), root)),
  );
  const manifest: BuildManifest = {
    node: NODE_MAJOR,
    ...(partial ? { partial: true } : {}),
    entries: Object.fromEntries(artifacts.map((a, i) => [a.entry, built[i] as ManifestEntry])),
  };
  const manifestPath = join(ROOT, DIST_DIR, MANIFEST_FILE);
  await mkdir(dirname(manifestPath), { recursive: true });
  await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  printTable(built);
  console.log(`\nwrote ${relative(ROOT, manifestPath)}${partial ? ' (partial build: BUILD_ONLY)' : ''}`);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
