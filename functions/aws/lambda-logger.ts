import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { LogLevel as PowertoolsLevel } from '@aws-lambda-powertools/logger/types';
import type { LogFields, Logger, LogLevel } from '../common/logger.ts';

/**
 * The logging port on Lambda: the Powertools Logger (structured JSON, the Lambda context injected per invocation by
 * its middy middleware). A child adds its keys to every line it writes and leaves the parent as it was.
 */
export interface LambdaLogger extends Logger {
  /** The Powertools logger itself, for `injectLambdaContext`. */
  readonly powertools: PowertoolsLogger;
}

export function createLambdaLogger(level: LogLevel): LambdaLogger {
  const powertools = new PowertoolsLogger({
    serviceName: 'astro-identity-sync',
    logLevel: level as PowertoolsLevel,
  });
  return { ...withKeys(powertools, {}), powertools };
}

function withKeys(logger: PowertoolsLogger, keys: LogFields): Logger {
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields: LogFields = {}) =>
      logger[level](message, { ...keys, ...fields });
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (fields) => withKeys(logger, { ...keys, ...fields }),
  };
}
