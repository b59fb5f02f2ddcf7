import type { ErrorType } from './xml.ts';

/** An AWS query-protocol error: becomes `<ErrorResponse><Error><Type/><Code/><Message/>`. */
export class QueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: ErrorType = 'Sender',
  ) {
    super(message);
  }
}
