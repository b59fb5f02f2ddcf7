import { type DestinationStream, pino } from 'pino';

export type LogFields = Record<string, unknown>;

/**
 * The one logging port every edge uses: four levels and `child()` for correlation keys (webhookId, deploymentId,
 * messageId). AWS implements it with the Powertools Logger, GCP and Azure with pino; the pipeline, the notifier and
 * the flows only ever see this.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** Keys that may hold a credential, wherever they appear one level down; their values never reach a log line. */
const REDACT = ['token', 'secret', 'authorization', '*.token', '*.secret', '*.authorization'];

/**
 * JSON lines through pino: `severity` and `message` are what Cloud Logging parses on GCP; on Azure the lines are
 * routed through the invocation context to Application Insights (see functions/azure/azure-logger.ts).
 */
export function createPinoLogger(options: { level: LogLevel; cloud: string; destination?: DestinationStream }): Logger {
  const level = options.level === 'SILENT' ? 'silent' : options.level.toLowerCase();
  const logger = pino(
    {
      level,
      base: { service: 'astro-identity-sync', cloud: options.cloud },
      messageKey: 'message',
      formatters: { level: (label) => ({ severity: label.toUpperCase() }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    options.destination,
  );
  return fromPino(logger);
}

function fromPino(logger: pino.Logger): Logger {
  const line =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields: LogFields = {}) =>
      logger[level](fields, message);
  return {
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    child: (fields) => fromPino(logger.child(fields)),
  };
}

/** A logger that drops everything (tests, and callers that did not pass one). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
