import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, type Artifact, type BuildManifest, DIST_DIR, MANIFEST_FILE } from '../../scripts/artifacts.ts';
import { LAMBDA_BUNDLE_BUDGET, missingEntriesMessage } from '../../scripts/build.ts';
import { bundleArtifact, esbuildOptions, withoutIdleBanner } from '../../scripts/bundle.ts';
import { LAMBDA_SKIPPED_CREDENTIAL_PROVIDERS } from '../../scripts/bundle-plugins.ts';
import { deterministicZip, readZip } from '../../scripts/deterministic-zip.ts';
import { FUNCTIONS_FRAMEWORK } from '../../scripts/package-files.ts';
import { loadModule, MODULE_DIRS, REPO } from './terraform-files.ts';

/**
 * Runs `npm run build` once and checks what it wrote: the manifest, the zips' contents and determinism, the bundle
 * budget, and that each bundle starts the way its platform starts it (Lambda imports the handler, the Functions
 * Framework serves the GCP bundle installed beside it, the Azure worker's core API sees the registrations).
 */

const run = promisify(execFile);
let manifest: BuildManifest;
let buildOutput = '';
const scratch = mkdtempSync(join(tmpdir(), 'astro-identity-sync-build-'));

beforeAll(async () => {
  const { stdout } = await run('npm', ['run', 'build', '--silent'], {
    cwd: REPO,
    env: { ...process.env, BUILD_ONLY: '' },
    maxBuffer: 10 * 1024 * 1024,
  });
  buildOutput = stdout;
  manifest = JSON.parse(readFileSync(join(REPO, DIST_DIR, MANIFEST_FILE), 'utf8')) as BuildManifest;
}, 180_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const entryOf = (artifact: Artifact) => {
  const entry = manifest.entries[artifact.entry];
  if (entry === undefined) throw new Error(`${artifact.entry} is not in the manifest`);
  return entry;
};
const zipOf = (artifact: Artifact) => readFileSync(join(REPO, DIST_DIR, artifact.zip));

/**
 * Bundles `contents` with the Lambda bundles' own esbuild options (one file, no splitting) and writes it to scratch:
 * what the shipped code does, checked in a fresh node process.
 */
async function lambdaProbe(name: string, contents: string) {
  const {
    entryPoints: _entries,
    outdir: _outdir,
    outExtension: _extension,
    splitting: _split,
    chunkNames: _chunks,
    ...lambda
  } = esbuildOptions(
    ARTIFACTS.filter((a) => a.cloud === 'aws'),
    REPO,
  );
  const probe = await build({
    ...lambda,
    outfile: 'probe.mjs',
    sourcemap: false,
    stdin: { resolveDir: REPO, loader: 'ts', contents },
  });
  const file = join(scratch, name);
  writeFileSync(file, probe.outputFiles?.[0]?.contents ?? '');
  return { probe, file };
}

/** Unpacks an artifact's zip into a scratch directory (what the platform unpacks). */
function unpack(artifact: Artifact): string {
  const dir = join(scratch, artifact.id.replace('/', '-'));
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(readZip(zipOf(artifact)))) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
  }
  return dir;
}

describe('npm run build', () => {
  it('builds every artifact and lists it in dist/build-manifest.json with its size and hashes', () => {
    expect(Object.keys(manifest.entries).sort()).toEqual(ARTIFACTS.map((a) => a.entry).sort());
    for (const artifact of ARTIFACTS) {
      const entry = entryOf(artifact);
      const zip = zipOf(artifact);
      expect(entry.file).toBe(`${DIST_DIR}/${artifact.zip}`);
      expect(entry.bytes).toBe(zip.byteLength);
      expect(entry.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
      expect(entry.base64sha256).toBe(createHash('sha256').update(zip).digest('base64'));
      expect(entry.sources).toContain(artifact.entry);
    }
    for (const artifact of ARTIFACTS) expect(buildOutput).toContain(artifact.id);
    expect(buildOutput).toMatch(/bundle \(minified\) loaded at start\s+all code\s+zip/);
  });

  it('packages exactly the files each platform needs', () => {
    // The entry at the root and the chunks it loads on first use under chunks/, each with its map.
    const names = (artifact: Artifact) => Object.keys(readZip(zipOf(artifact))).sort();
    for (const artifact of ARTIFACTS) {
      const expected = {
        aws: ['index.mjs', 'index.mjs.map'],
        gcp: ['index.js', 'index.js.map', 'package.json'],
        azure: ['host.json', 'index.js', 'index.js.map', 'package.json'],
      }[artifact.cloud];
      const all = names(artifact);
      expect(
        all.filter((name) => !name.startsWith('chunks/')),
        artifact.id,
      ).toEqual(expected);
      const chunks = all.filter((name) => name.startsWith('chunks/'));
      expect(chunks.length).toBeGreaterThan(0);
      for (const chunk of chunks.filter((name) => !name.endsWith('.map'))) {
        expect(chunks, chunk).toContain(`${chunk}.map`);
        expect(chunk).toMatch(artifact.bundle.endsWith('.mjs') ? /\.mjs$/ : /\.js$/);
      }
      const code = new TextDecoder().decode(readZip(zipOf(artifact))[artifact.bundle]);
      expect(code.trimEnd().endsWith(`//# sourceMappingURL=${artifact.bundle}.map`)).toBe(true);
    }
  });

  it('writes deterministic zips: sorted entries, fixed timestamps, the same bytes in every time zone', () => {
    for (const artifact of ARTIFACTS) {
      const zip = zipOf(artifact);
      const again = deterministicZip(readZip(zip));
      expect(Buffer.from(again).equals(zip), artifact.id).toBe(true);
    }
    const files = { 'b.txt': 'b', 'a.txt': 'a' };
    const previous = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      const utc = deterministicZip(files);
      process.env.TZ = 'Asia/Kolkata';
      expect(Buffer.from(deterministicZip(files)).equals(Buffer.from(utc))).toBe(true);
      expect(Object.keys(readZip(utc))).toEqual(['a.txt', 'b.txt']);
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });

  it('keeps every Lambda bundle under 1 MiB minified, with the AWS SDK bundled (pinned)', () => {
    for (const artifact of ARTIFACTS.filter((a) => a.cloud === 'aws')) {
      const entry = entryOf(artifact);
      expect(entry.bundle.totalBytes, artifact.id).toBeLessThan(LAMBDA_BUNDLE_BUDGET);
      expect(entry.bundle.bytes, artifact.id).toBeLessThanOrEqual(entry.bundle.totalBytes);
      expect(entry.packages).toContain(
        artifact.id === 'aws/webhook' ? '@aws-sdk/client-eventbridge' : '@aws-sdk/client-iam',
      );
    }
  });

  it('bundles into the webhook only what it uses: no IAM, no Slack, no Astro client', () => {
    const webhook = entryOf(ARTIFACTS.find((a) => a.id === 'aws/webhook') as Artifact);
    for (const unused of ['@aws-sdk/client-iam', '@slack/web-api', '@slack/webhook']) {
      expect(webhook.packages).not.toContain(unused);
    }
    expect(webhook.sources).not.toContain('functions/common/astro-client.ts');
    expect(webhook.sources).not.toContain('functions/common/slack-notifier.ts');
  });

  it('loads the DynamoDB client on first use of the lease table, not at start (every AWS function)', () => {
    for (const artifact of ARTIFACTS.filter((a) => a.cloud === 'aws')) {
      const entry = entryOf(artifact);
      expect(entry.packages, artifact.id).toContain('@aws-sdk/client-dynamodb');
      expect(entry.start.packages, artifact.id).not.toContain('@aws-sdk/client-dynamodb');
      expect(entry.start.sources, artifact.id).not.toContain('functions/aws/dynamodb-table.ts');
    }
  });

  it('loads the Astro and Houston clients only for a config that names them, and the Slack notifier on its first message', () => {
    for (const artifact of ARTIFACTS.filter((a) => a.id !== 'aws/webhook')) {
      const entry = entryOf(artifact);
      for (const file of [
        'functions/common/astro-client.ts',
        'functions/common/houston-client.ts',
        'functions/common/software-source.ts',
        'functions/common/slack-notifier.ts',
        'functions/common/slack-transport.ts',
      ]) {
        expect(entry.sources, artifact.id).toContain(file);
        expect(entry.start.sources, artifact.id).not.toContain(file);
      }
    }
  });

  it('loads the Key Vault SDK on the first azure-kv: reference, not at start', () => {
    const azure = entryOf(ARTIFACTS.find((a) => a.cloud === 'azure') as Artifact);
    expect(azure.packages).toContain('@azure/keyvault-secrets');
    expect(azure.start.packages).not.toContain('@azure/keyvault-secrets');
  });

  it('bundles pino without its transports (thread-stream): the functions log JSON lines to stdout', () => {
    for (const artifact of ARTIFACTS.filter((a) => a.cloud !== 'aws')) {
      const entry = entryOf(artifact);
      expect(entry.packages, artifact.id).toContain('pino');
      expect(entry.packages, artifact.id).not.toContain('thread-stream');
    }
  });

  it('bundles only the API versions the GCP function calls (IAM v1, Resource Manager v3)', async () => {
    const { inputs } = await bundleArtifact(ARTIFACTS.find((a) => a.cloud === 'gcp') as Artifact, REPO);
    const versions = inputs
      .map((input) => /node_modules\/@googleapis\/(\w+)\/build\/(\w+)\.js$/.exec(input))
      .flatMap((match) => (match === null ? [] : [`${match[1]}/${match[2]}`]))
      .sort();
    expect(versions).toEqual(['cloudresourcemanager/v3', 'iam/v1']);
  });

  it('keeps the code the webhook loads at start within 300 KiB', () => {
    const webhook = entryOf(ARTIFACTS.find((a) => a.id === 'aws/webhook') as Artifact);
    expect(webhook.bundle.bytes).toBeLessThanOrEqual(300 * 1024);
  });

  it('blanks the require banner only in chunks that name none of what it defines, keeping the source map lines', () => {
    const banner = String(esbuildOptions(ARTIFACTS, REPO).banner?.js);
    const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    const chunk = (body: string) => new TextEncoder().encode(`${banner}\n${body}`);
    for (const body of ['var a=require("node:fs");', 'var d=__dirname;', 'var f=__filename;', 'typeof require']) {
      expect(text(withoutIdleBanner(chunk(body)))).toBe(`${banner}\n${body}`);
    }
    // "required" is not `require`; the blanked banner leaves its line, so line 2 is still the code's first line.
    expect(text(withoutIdleBanner(chunk('var m="is required";export{m};')))).toBe('\nvar m="is required";export{m};');
    expect(text(withoutIdleBanner(new TextEncoder().encode('var x=require;')))).toBe('var x=require;');
  });

  it('fails naming the entry points that do not exist', () => {
    const ghost: Artifact = { ...(ARTIFACTS[0] as Artifact), id: 'aws/ghost', entry: 'functions/aws/ghost.ts' };
    const message = missingEntriesMessage([ghost, ...ARTIFACTS.slice(1)]);
    expect(message).toContain('functions/aws/ghost.ts (aws/ghost)');
    expect(message).toContain('BUILD_ONLY=');
    expect(missingEntriesMessage(ARTIFACTS)).toBeUndefined();
  });
});

describe('the bundles start', () => {
  it('Lambda: each zip holds an ES module exporting handler', async () => {
    const lambdas = ARTIFACTS.filter((a) => a.cloud === 'aws');
    // A plain Node process, as in Lambda (and without vitest transforming a megabyte of bundle per import).
    const files = lambdas.map((artifact) => join(unpack(artifact), 'index.mjs'));
    const probe = `for (const f of ${JSON.stringify(files)}) console.log(typeof (await import(f)).handler);`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    });
    expect(stdout.trim().split('\n')).toEqual(lambdas.map(() => 'function'));
  });

  it('Lambda: the default credential chain still answers from the environment without the skipped providers', async () => {
    for (const artifact of ARTIFACTS.filter((a) => a.cloud === 'aws')) {
      const bundled = entryOf(artifact).packages;
      for (const skipped of Object.keys(LAMBDA_SKIPPED_CREDENTIAL_PROVIDERS)) expect(bundled).not.toContain(skipped);
      expect(bundled).not.toContain('@aws-sdk/nested-clients');
    }
    // The SDK's own default chain, bundled with the Lambda options, run with and without environment credentials.
    const { file } = await lambdaProbe(
      'credentials-probe.mjs',
      `import { defaultProvider } from '@aws-sdk/credential-provider-node';
defaultProvider()().then((c) => console.log('key', c.accessKeyId), (e) => console.log('error', e.name, e.message));`,
    );
    const env = { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true' };
    const withKeys = await run(process.execPath, [file], {
      env: { ...env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'token' },
    });
    expect(withKeys.stdout.trim()).toBe('key AKIAEXAMPLE');
    const without = await run(process.execPath, [file], { env });
    expect(without.stdout.trim()).toMatch(/^error CredentialsProviderError /);
  });

  it('bundles zod with English alone, and the bundled schemas still report in English', async () => {
    // zod/mini registers no locale: shared/zod-english.ts does, and the plugin keeps every other locale out.
    const { probe, file } = await lambdaProbe(
      'zod-locale-probe.mjs',
      `import { parseConfig } from './shared/config-text.ts';
try { parseConfig('{"prune": "x", "bogus": 1}'); } catch (e) { console.log(e.message); }`,
    );
    const locales = Object.keys(probe.metafile?.inputs ?? {}).filter((input) => /[\\/]locales[\\/]/.test(input));
    expect(locales.length).toBeGreaterThan(0);
    for (const input of locales) expect(input).toMatch(/[\\/]locales[\\/]en\.js$/);
    const { stdout } = await run(process.execPath, [file], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout.trim()).toBe(
      'prune: Invalid input: expected boolean, received string; (document): Unrecognized key: "bogus"',
    );
  });

  it('Lambda: errors keep their names in the minified bundles (built without keepNames)', async () => {
    expect(
      esbuildOptions(
        ARTIFACTS.filter((a) => a.cloud === 'aws'),
        REPO,
      ).keepNames,
    ).toBe(false);
    const { file } = await lambdaProbe(
      'error-names-probe.mjs',
      `import * as errors from './shared/errors.ts';
import { AstroApiError } from './shared/intake/astro-api.ts';
import { HoustonApiError } from './shared/intake/houston-api.ts';
const made = [
  new errors.ValidationError('v'), new errors.RequestRejectedError('request_rejected', 'r'),
  new errors.DoesNotFitError('d', { size: 2, limit: 1, remedies: [] }), new errors.NameConflictError('n', [], []),
  new errors.TargetError('t', { retryable: true }), new errors.WriteConflictError('w'),
  new errors.WriteRefusedError('w'), new errors.LeaseChangedError('l'), new errors.UnavailableError('u'),
  new errors.OutOfTimeError('o'), new errors.RetryLaterError('r', []),
  new AstroApiError('a', { status: 500, retryable: true }), new HoustonApiError('h', { status: 500, retryable: true }),
];
console.log(made.map((e) => e.name).join(' '));`,
    );
    const { stdout } = await run(process.execPath, [file], { env: { PATH: process.env.PATH ?? '' } });
    expect(stdout.trim().split(' ')).toEqual([
      'ValidationError',
      'RequestRejectedError',
      'DoesNotFitError',
      'NameConflictError',
      'TargetError',
      'WriteConflictError',
      'WriteRefusedError',
      'LeaseChangedError',
      'UnavailableError',
      'OutOfTimeError',
      'RetryLaterError',
      'AstroApiError',
      'HoustonApiError',
    ]);
  });

  it('Cloud Functions: the Functions Framework installed from package.json serves all three targets', async () => {
    const artifact = ARTIFACTS.find((a) => a.cloud === 'gcp') as Artifact;
    const dir = unpack(artifact);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const root = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg).toMatchObject({ type: 'module', main: 'index.js' });
    expect(pkg.dependencies).toEqual({ [FUNCTIONS_FRAMEWORK]: root.dependencies[FUNCTIONS_FRAMEWORK] });
    expect(entryOf(artifact).packages).not.toContain(FUNCTIONS_FRAMEWORK);
    // What the buildpack's `npm install` provides: the framework (and its dependencies) next to the bundle.
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');

    const http = await serveFunction(dir, 'astroIdentitySync');
    const events = await serveFunction(dir, 'astroIdentitySyncEvents');
    const schedule = await serveFunction(dir, 'astroIdentitySyncSchedule');
    try {
      expect(http.log()).toContain('Signature type: http');
      expect((await fetch(`${http.url}/`)).status).toBe(405);

      // A Pub/Sub push body (what the module's push subscriptions send) reaches the CloudEvent function.
      expect(events.log()).toContain('Signature type: cloudevent');
      const push = (data: unknown, id: string) =>
        JSON.stringify({
          subscription: 'projects/p/subscriptions/s',
          message: { data: Buffer.from(JSON.stringify(data)).toString('base64'), messageId: id, attributes: {} },
        });
      const headers = { 'content-type': 'application/json' };
      const queued = await fetch(`${events.url}/projects/p/topics/t`, {
        method: 'POST',
        headers,
        body: push({}, 'm-1'),
      });
      expect(queued.status).toBeLessThan(300);
      await waitFor(() => events.log().includes('dropping a malformed message'));
      expect(events.log()).toContain('"messageId":"m-1"');

      const task = await fetch(`${schedule.url}/projects/p/topics/s`, {
        method: 'POST',
        headers,
        body: push({ task: 'nap' }, 'm-2'),
      });
      expect(task.status).toBeLessThan(300);
      await waitFor(() => schedule.log().includes('dropping a malformed schedule message'));
    } finally {
      for (const server of [http, events, schedule]) server.stop();
    }
  }, 30_000);

  it('Azure: the bundle registers its functions through the worker core API, with host.json queue retries', async () => {
    const artifact = ARTIFACTS.find((a) => a.cloud === 'azure') as Artifact;
    const dir = unpack(artifact);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      type: 'module',
      main: 'index.js',
    });
    const host = JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8'));
    expect(host.extensionBundle).toEqual({ id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' });
    expect(host.extensions.queues.maxDequeueCount).toBe(5);
    // The worker answers require('@azure/functions-core') itself; a stand-in records what the app registers.
    const core = join(dir, 'node_modules', '@azure', 'functions-core');
    mkdirSync(core, { recursive: true });
    writeFileSync(
      join(core, 'index.js'),
      `globalThis.registered = [];
module.exports = {
  version: 'test', hostVersion: '4.0.0', Disposable: class { dispose() {} },
  setProgrammingModel(model) { globalThis.model = model.name + '@' + model.version; },
  getProgrammingModel() {}, registerHook() { return { dispose() {} }; },
  registerFunction(metadata) { globalThis.registered.push(metadata); return { dispose() {} }; },
};`,
    );
    writeFileSync(
      join(dir, 'probe.mjs'),
      "await import('./index.js'); console.log(JSON.stringify({ model: globalThis.model, registered: globalThis.registered }));",
    );
    // The timer schedules are the app settings the Terraform module sets.
    const timers = (await loadModule(MODULE_DIRS.azure)).locals.timer_schedules as Record<string, string>;
    const { stdout } = await run(process.execPath, ['probe.mjs'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...timers },
    });
    const { model, registered } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      model: string;
      registered: Array<{ name: string; bindings: Record<string, Record<string, unknown>> }>;
    };
    expect(model).toMatch(/^@azure\/functions@4\./);
    const trigger = (name: string) =>
      Object.values(registered.find((r) => r.name === name)?.bindings ?? {}).find((b) =>
        String(b.type).endsWith('Trigger'),
      );
    expect(trigger('webhook')).toMatchObject({ type: 'httpTrigger', route: 'webhook', authLevel: 'anonymous' });
    expect(trigger('manual')).toMatchObject({ type: 'httpTrigger', route: 'manual', authLevel: 'function' });
    expect(trigger('reconciler')).toMatchObject({
      type: 'queueTrigger',
      queueName: 'astro-identity-sync-events',
      connection: 'AzureWebJobsStorage',
    });
    expect(trigger('poll')).toMatchObject({ type: 'timerTrigger', schedule: '0 */5 * * * *' });
    expect(trigger('sweep')).toMatchObject({ type: 'timerTrigger', schedule: '0 0 * * * *' });
    expect(registered.map((r) => r.name).sort()).toEqual(['manual', 'poll', 'reconciler', 'sweep', 'webhook']);
  }, 30_000);
});

interface Served {
  readonly url: string;
  log(): string;
  stop(): void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** Starts the Functions Framework the way the Cloud Functions runtime does: from node_modules, on the source dir. */
async function serveFunction(dir: string, target: string): Promise<Served> {
  const port = await freePort();
  const main = join(dir, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js');
  const child = spawn(process.execPath, [main, `--target=${target}`, `--source=${dir}`, `--port=${port}`], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const served: Served = { url: `http://127.0.0.1:${port}`, log: () => output, stop: () => child.kill() };
  await waitFor(
    () => output.includes('Serving function'),
    () => `${target} did not start:\n${output}`,
  );
  return served;
}

async function waitFor(ready: () => boolean, describe: () => string = () => 'timed out', ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
