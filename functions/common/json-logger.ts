import { pino } from 'pino';
import type { Env } from './function-runtime.ts';
import type { PipelineLogger } from './pipeline.ts';

export interface JsonLogger extends PipelineLogger {
  /** A logger that adds correlation keys (webhookId, deploymentId) to every line. */
  child(keys: Record<string, unknown>): JsonLogger;
}

/**
 * JSON lines on stdout for the clouds whose log agents parse them (Cloud Logging reads `severity` and `message`;
 * Azure Functions ships stdout to Application Insights). pino keeps it fast and its redaction keeps credentials out.
 */
export function createJsonLogger(
  env: Env,
  options: { cloud: string; destination?: pino.DestinationStream },
): JsonLogger {
  const level = (env.LOG_LEVEL ?? 'INFO').toLowerCase();
  const logger = pino(
    {
      level: level === 'silent' ? 'silent' : ['debug', 'info', 'warn', 'error'].includes(level) ? level : 'info',
      base: { service: 'astro-identity-sync', cloud: options.cloud },
      messageKey: 'message',
      formatters: { level: (label) => ({ severity: label.toUpperCase() }) },
      redact: {
        paths: ['token', 'secret', 'authorization', '*.token', '*.secret', '*.authorization'],
        censor: '[redacted]',
      },
    },
    options.destination,
  );
  return wrap(logger);
}

function wrap(logger: pino.Logger): JsonLogger {
  const line =
    (level: 'info' | 'warn' | 'error') =>
    (message: string, ...extra: Array<Record<string, unknown>>) =>
      logger[level](Object.assign({}, ...extra), message);
  return { info: line('info'), warn: line('warn'), error: line('error'), child: (keys) => wrap(logger.child(keys)) };
}
