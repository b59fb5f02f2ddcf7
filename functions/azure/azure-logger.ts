import { AsyncLocalStorage } from 'node:async_hooks';
import type { InvocationContext } from '@azure/functions';
import type { PipelineLogger } from '../common/pipeline.ts';

/** The part of InvocationContext used for logs; the host routes it to Application Insights with the invocation id. */
export type LogSink = Pick<InvocationContext, 'info' | 'warn' | 'error'>;

export interface InvocationLogger extends PipelineLogger {
  /** A logger that adds correlation keys (webhookId, deploymentId, messageId) to every line. */
  with(keys: Record<string, unknown>): InvocationLogger;
}

/**
 * One JSON object per line through the invocation's context, so logs are queryable by key in Application Insights and
 * stay attached to their invocation. Levels are filtered by the host (host.json `logging.logLevel`), not here.
 */
export function contextLogger(sink: LogSink, keys: Record<string, unknown> = {}): InvocationLogger {
  const line = (level: string, message: string, extra: Array<Record<string, unknown>>) =>
    JSON.stringify(Object.assign({ level, message, service: 'astro-identity-sync' }, keys, ...extra));
  return {
    info: (message, ...extra) => sink.info(line('info', message, extra)),
    warn: (message, ...extra) => sink.warn(line('warn', message, extra)),
    error: (message, ...extra) => sink.error(line('error', message, extra)),
    with: (more) => contextLogger(sink, { ...keys, ...more }),
  };
}

const current = new AsyncLocalStorage<PipelineLogger>();

/** Runs `work` with `logger` as the ambient logger, so code built at cold start logs into this invocation. */
export function withInvocationLogger<T>(logger: PipelineLogger, work: () => Promise<T>): Promise<T> {
  return current.run(logger, work);
}

/** Outside any invocation (should not happen): warnings and errors still reach stderr, info is dropped. */
const fallback = contextLogger({
  info: () => undefined,
  warn: (...args: unknown[]) => console.warn(...args),
  error: (...args: unknown[]) => console.error(...args),
});

/**
 * The logger handed to the cold-start runtime (the Slack notifier keeps it for its lifetime). One instance serves
 * concurrent invocations, so it cannot hold "the" context: it forwards to whichever invocation is running the call,
 * tracked through AsyncLocalStorage.
 */
export const ambientLogger: PipelineLogger = {
  info: (message, ...extra) => (current.getStore() ?? fallback).info(message, ...extra),
  warn: (message, ...extra) => (current.getStore() ?? fallback).warn(message, ...extra),
  error: (message, ...extra) => (current.getStore() ?? fallback).error(message, ...extra),
};
