import { AsyncLocalStorage } from 'node:async_hooks';
import type { InvocationContext } from '@azure/functions';
import { pino } from 'pino';
import { createPinoLogger, type Logger, type LogLevel } from '../common/logger.ts';

/** The part of InvocationContext used for logs; the host routes it to Application Insights with the invocation id. */
type LogSink = Pick<InvocationContext, 'debug' | 'info' | 'warn' | 'error'>;

const current = new AsyncLocalStorage<LogSink>();

/** Outside any invocation (a cold start racing a shutdown): warnings and errors still reach stderr. */
const fallback: LogSink = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => console.error(...args),
};

/** Each pino level written to the same level of whichever invocation is running the call. */
function sinkStream(level: keyof LogSink): pino.DestinationStream {
  return { write: (line: string) => (current.getStore() ?? fallback)[level](line.trimEnd()) };
}

/**
 * pino on Azure: one JSON object per line, written through the invocation's context so each line stays attached to
 * its invocation in Application Insights. One logger serves concurrent invocations (the cold-start runtime keeps
 * it), so it cannot hold "the" context: every line goes to whichever invocation runs the call, tracked through
 * AsyncLocalStorage. Host levels (host.json `logging.logLevel`) filter on top of LOG_LEVEL.
 */
export function createAzureLogger(level: LogLevel): Logger {
  const destination = pino.multistream(
    [
      { level: 'debug', stream: sinkStream('debug') },
      { level: 'info', stream: sinkStream('info') },
      { level: 'warn', stream: sinkStream('warn') },
      { level: 'error', stream: sinkStream('error') },
    ],
    // Each line to its own level only, not to every stream below it.
    { dedupe: true },
  );
  return createPinoLogger({ level, cloud: 'azure', destination });
}

/** Runs `work` with `context` as the sink for every line logged meanwhile, wherever the logger came from. */
export function withInvocation<T>(context: LogSink, work: () => Promise<T>): Promise<T> {
  return current.run(context, work);
}
