import { TargetError } from '../../shared/errors.ts';

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A conditional write refused because the item is not in the state we asked for: the expected answer, not a fault. */
export function isConditionFailed(error: unknown): boolean {
  return (error as SdkError | null)?.name === 'ConditionalCheckFailedException';
}

/** A DynamoDB error of the lease / replay table (the SDK has retried throttling and 5xx) as a typed error. */
export function toTableError(
  error: unknown,
  table: string,
  action: 'PutItem' | 'GetItem' | 'UpdateItem' | 'DeleteItem',
): TargetError {
  const e = (error ?? {}) as SdkError;
  const name = (e.name ?? '').replace(/Exception$/, '');
  if (name === 'AccessDenied') {
    return new TargetError(`this function may not call dynamodb:${action} on the table ${table}; allow it`, {
      retryable: false,
      cause: error,
    });
  }
  if (name === 'ResourceNotFound') {
    return new TargetError(
      `the DynamoDB table ${table} does not exist (ASTRO_IDENTITY_SYNC_LEASE_TABLE; infra/aws creates it)`,
      { retryable: false, cause: error },
    );
  }
  const status = e.$metadata?.httpStatusCode ?? 0;
  return new TargetError(`dynamodb:${action} on ${table} failed: ${name || 'error'}: ${e.message ?? String(error)}`, {
    retryable: status === 0 || status === 429 || status >= 500 || /Throughput|Throttl|RequestLimit/.test(name),
    cause: error,
  });
}
