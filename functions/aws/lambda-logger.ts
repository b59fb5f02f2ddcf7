import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import type { Env } from '../common/function-runtime.ts';

/** Structured JSON logs; `webhookId` / `deploymentId` are appended per request as correlation keys. */
export function createLambdaLogger(env: Env): Logger {
  const level = (env.LOG_LEVEL ?? 'INFO').toUpperCase();
  const logLevel = (['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'].includes(level) ? level : 'INFO') as LogLevel;
  return new Logger({ serviceName: 'astro-identity-sync', logLevel });
}
