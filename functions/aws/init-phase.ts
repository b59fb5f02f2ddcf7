import { type Env, lambdaInitType } from '../common/env-settings.ts';
import type { Logger } from '../common/logger.ts';

/** Under Lambda's 10 s init limit, with room for the runtime's own start: past it, init ends and the cold start goes on. */
export const INIT_BUDGET_MS = 8_000;

/**
 * Runs the cold start (settings, secrets, config, clients) in Lambda's init phase, where the entry points await it,
 * then the runtime's `warm`: the code every invocation of this config loads, and the SDK's request path primed
 * (sdk-priming.ts). On-demand Lambda gives the init phase a full vCPU and an invocation memory/1,769 of one (a seventh
 * at the webhook's 256 MB), so the same work costs several times less here than in the first invocation; with
 * provisioned concurrency it is done before any request arrives.
 *
 * It never fails the init. A failed cold start is logged and forgotten (coldStart): the first invocation runs it again
 * and answers with its error, as without this. A failed `warm` is logged, and the calls load what they need. Past
 * `budgetMs` the init ends and the first invocation awaits the same cold start. Outside Lambda (no
 * AWS_LAMBDA_INITIALIZATION_TYPE: tests, the local stack, the bench's module load) importing an entry point does
 * nothing more than before.
 */
export async function warmDuringInit(
  env: Env,
  deps: { readonly logger: Logger; runtime(): Promise<{ warm(): Promise<void> }> },
  budgetMs = INIT_BUDGET_MS,
): Promise<'warm' | 'skipped' | 'failed' | 'unprepared' | 'over-budget'> {
  if (lambdaInitType(env) === undefined) return 'skipped';
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<'over-budget'>((resolve) => {
    timer = setTimeout(() => resolve('over-budget'), budgetMs);
  });
  const describe = (error: unknown) => ({
    error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
  const warm = (async () => {
    let runtime: { warm(): Promise<void> };
    try {
      runtime = await deps.runtime();
    } catch (error) {
      deps.logger.warn('the cold start failed during init; the first invocation runs it again', describe(error));
      return 'failed' as const;
    }
    try {
      await runtime.warm();
    } catch (error) {
      // The cold start is done: what could not be loaded or primed here is loaded by the calls that need it.
      deps.logger.warn(
        'preparing the first invocation failed during init; it loads what it needs itself',
        describe(error),
      );
      return 'unprepared' as const;
    }
    return 'warm' as const;
  })();
  try {
    const outcome = await Promise.race([warm, overBudget]);
    if (outcome === 'over-budget') {
      deps.logger.warn(`the cold start took over ${budgetMs} ms during init; the first invocation waits for the rest`);
    }
    return outcome;
  } finally {
    clearTimeout(timer);
  }
}
