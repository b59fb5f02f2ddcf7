/**
 * What `npm run build` produces, in one place: the build writes exactly these files and the infra checks read them
 * from here, so a renamed zip cannot leave a Terraform module pointing at a file that no longer exists.
 */

/** Output directory, relative to the repository root; Terraform modules default to `<module>/../../dist`. */
export const DIST_DIR = 'dist';

/** The Node.js major every deployed function runs on (Lambda nodejs22.x, Cloud Functions nodejs22, Azure "22"). */
export const NODE_MAJOR = 22;

export const RUNTIMES = {
  aws: `nodejs${NODE_MAJOR}.x`,
  gcp: `nodejs${NODE_MAJOR}`,
  azure: `${NODE_MAJOR}`,
} as const;

export type Cloud = 'aws' | 'gcp' | 'azure';

export interface Artifact {
  /** `<cloud>/<name>`: the key in dist/build-manifest.json and what BUILD_ONLY selects. */
  readonly id: string;
  readonly cloud: Cloud;
  readonly name: string;
  /** The TypeScript entry point, relative to the repository root. */
  readonly entry: string;
  /** The bundle's file name inside the zip. */
  readonly bundle: 'index.mjs' | 'index.js';
  /** The deployable zip, relative to DIST_DIR. */
  readonly zip: string;
  /**
   * Packages the platform provides at run time and that must not be bundled. `@azure/functions-core` is the worker's
   * built-in module; the Functions Framework must be the very module instance the platform starts, or the functions
   * registered in our bundle land in a private copy of its registry (it is installed from package.json instead).
   */
  readonly external: readonly string[];
}

/** Every Lambda function: one zip each, handler `index.handler`. */
export const AWS_FUNCTIONS = ['webhook', 'reconciler', 'manual', 'scheduled'] as const;
export type AwsFunction = (typeof AWS_FUNCTIONS)[number];

export const ARTIFACTS: readonly Artifact[] = [
  ...AWS_FUNCTIONS.map(
    (name): Artifact => ({
      id: `aws/${name}`,
      cloud: 'aws',
      name,
      entry: `functions/aws/${name}.ts`,
      bundle: 'index.mjs',
      zip: `aws/${name}.zip`,
      external: [],
    }),
  ),
  {
    id: 'gcp/function-source',
    cloud: 'gcp',
    name: 'function-source',
    entry: 'functions/gcp/index.ts',
    bundle: 'index.js',
    zip: 'gcp/function-source.zip',
    external: ['@google-cloud/functions-framework'],
  },
  {
    id: 'azure/function-app',
    cloud: 'azure',
    name: 'function-app',
    entry: 'functions/azure/index.ts',
    bundle: 'index.js',
    zip: 'azure/function-app.zip',
    external: ['@azure/functions-core'],
  },
];

export const MANIFEST_FILE = 'build-manifest.json';

export interface ManifestEntry {
  readonly id: string;
  readonly cloud: Cloud;
  /** The zip, relative to the repository root (`dist/aws/webhook.zip`). */
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
  /** What Terraform's filebase64sha256() answers for the zip (Lambda's source_code_hash). */
  readonly base64sha256: string;
  /**
   * The entry file, and the code it loads at start (`bytes`: the entry and its statically imported chunks) against
   * all the code in the zip (`totalBytes`: with the chunks loaded on first use).
   */
  readonly bundle: {
    readonly file: string;
    readonly bytes: number;
    readonly totalBytes: number;
    readonly sha256: string;
  };
  /** Files of this repository inside the bundle (not node_modules), for the permission checks. */
  readonly sources: readonly string[];
  readonly packages: readonly string[];
  /** What of `sources` and `packages` the code loaded at start holds (the rest loads on first use). */
  readonly start: { readonly sources: readonly string[]; readonly packages: readonly string[] };
}

export interface BuildManifest {
  readonly node: number;
  /** Set when BUILD_ONLY narrowed the build: the manifest lists only what was rebuilt. */
  readonly partial?: true;
  /** Keyed by entry point (`functions/aws/webhook.ts`). */
  readonly entries: Readonly<Record<string, ManifestEntry>>;
}
