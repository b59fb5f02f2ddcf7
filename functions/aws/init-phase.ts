import { type Env, lambdaInitType } from '../common/env-settings.ts';
import type { Logger } from '../common/logger.ts';

/** Under Lambda's 10 s init limit, with room for the runtime's own start: past it, init ends and the cold start goes on. */
export const INIT_BUDGET_MS = 8_000;

/**
 * Runs the cold start (settings, secrets, config, clients, and the code every invocation of this config loads) in
 * Lambda's init phase, where the entry points await it. On-demand Lambda gives the init phase a full vCPU and an
 * invocation memory/1,769 of one (a seventh at the webhook's 256 MB), so the same work costs several times less here
 * than in the first invocation; with provisioned concurrency it is done before any request arrives.
 *
 * It never fails the init: a failed cold start is logged and forgotten (coldStart), and the first invocation runs it
 * again and answers with its error, as without this. Past `budgetMs` the init ends and the first invocation awaits
 * the same cold start. Outside Lambda (no AWS_LAMBDA_INITIALIZATION_TYPE: tests, the local stack, the bench's module
 * load) importing an entry point does nothing more than before.
 */
export async function warmDuringInit(
  env: Env,
  deps: { readonly logger: Logger; runtime(): Promise<{ warm(): Promise<void> }> },
  budgetMs = INIT_BUDGET_MS,
): Promise<'warm' | 'skipped' | 'failed' | 'over-budget'> {
  if (lambdaInitType(env) === undefined) return 'skipped';
  let timer: NodeJS.Timeout | undefined;
  const overBudget = new Promise<'over-budget'>((resolve) => {
    timer = setTimeout(() => resolve('over-budget'), budgetMs);
  });
  const warm = (async () => {
    await (await deps.runtime()).warm();
    return 'warm' as const;
  })().catch((error: unknown) => {
    deps.logger.warn('the cold start failed during init; the first invocation runs it again', {
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return 'failed' as const;
  });
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
