import { ambientLogger } from './azure-logger.ts';
import { type AzureRuntime, type AzureRuntimeOverrides, type Env, loadAzureRuntime } from './azure-runtime.ts';

export interface AzureHandlerDeps {
  /** The cold-start runtime, built on first use and shared by every function and invocation of this instance. */
  readonly runtime: () => Promise<AzureRuntime>;
}

/**
 * One set of deps per function app instance. All functions of an Azure function app run in one process, so the
 * HTTP and queue triggers share the runtime, its ARM clients and its per-target lanes.
 */
export function azureHandlerDeps(env: Env, overrides: AzureRuntimeOverrides = {}): AzureHandlerDeps {
  let runtime: Promise<AzureRuntime> | undefined;
  return {
    runtime: () => {
      runtime ??= loadAzureRuntime(env, ambientLogger, overrides).catch((error: unknown) => {
        runtime = undefined; // retry the cold start on the next invocation instead of failing until the instance recycles
        throw error;
      });
      return runtime;
    },
  };
}
