import type { Artifact } from './artifacts.ts';

/** The root package.json, for the version and the pinned Functions Framework. */
export interface RootPackage {
  readonly version: string;
  readonly dependencies: Readonly<Record<string, string>>;
}

export const FUNCTIONS_FRAMEWORK = '@google-cloud/functions-framework';

/**
 * Azure host settings. The queue trigger gives a message 5 deliveries (maxDequeueCount), 30 s apart, before the host
 * moves it to `<queue>-poison` with its body intact for a replay. Timers are declared in code (app.timer), not here.
 */
export const AZURE_HOST_JSON = {
  version: '2.0',
  extensionBundle: { id: 'Microsoft.Azure.Functions.ExtensionBundle', version: '[4.*, 5.0.0)' },
  functionTimeout: '00:10:00',
  extensions: {
    queues: { maxDequeueCount: 5, visibilityTimeout: '00:00:30', batchSize: 8, newBatchThreshold: 4 },
    http: { routePrefix: 'api' },
  },
  logging: {
    logLevel: { default: 'Information', 'Host.Results': 'Information', Function: 'Information' },
    applicationInsights: { samplingSettings: { isEnabled: true, excludedTypes: 'Request;Exception' } },
  },
} as const;

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * The files that sit beside the bundle in each zip. Lambda needs nothing but the `.mjs` (ESM by extension).
 *
 * Cloud Functions: the buildpack runs `npm install` for the dependencies and starts the Functions Framework from
 * node_modules with `--target=<entry point>`; `main` names the bundle and `type: module` makes it load as ESM. The
 * framework is a dependency, not bundled: its function registry is module state, so a bundled copy would hold our
 * registrations where the framework the platform starts never looks.
 *
 * Azure: the worker loads `main` and provides `@azure/functions-core` itself; `@azure/functions` is bundled, so the
 * zip needs no node_modules and no remote build.
 */
export function packageFiles(artifact: Artifact, root: RootPackage): Record<string, string> {
  const base = { name: `astro-identity-sync-${artifact.cloud}`, version: root.version, private: true };
  if (artifact.cloud === 'gcp') {
    const framework = root.dependencies[FUNCTIONS_FRAMEWORK];
    if (framework === undefined) throw new Error(`${FUNCTIONS_FRAMEWORK} is not a dependency in package.json`);
    return {
      'package.json': json({
        ...base,
        type: 'module',
        main: artifact.bundle,
        dependencies: { [FUNCTIONS_FRAMEWORK]: framework },
      }),
    };
  }
  if (artifact.cloud === 'azure') {
    return {
      'package.json': json({ ...base, type: 'module', main: artifact.bundle }),
      'host.json': json(AZURE_HOST_JSON),
    };
  }
  return {};
}
