import { type $ZodError, type $ZodType, type output, safeParse } from 'zod/v4/core';
import { RequestRejectedError, ValidationError } from './errors.ts';

/*
 * Typed with zod's core types and parsed with core's safeParse, so zod/mini schemas (the project's) and classic
 * ones (ad-hoc schemas in tests) both fit.
 */

/** Turns a zod failure into one ValidationError whose message names every bad field by its dotted path. */
export function toValidationError(
  error: $ZodError,
  options: { prefix?: string; code?: 'invalid_input' | 'invalid_config' } = {},
): ValidationError {
  const lines = error.issues.slice(0, 10).map((issue) => {
    const path = [options.prefix, ...issue.path.map(String)]
      .filter((part) => part !== undefined && part !== '')
      .join('.');
    return `${path || '(document)'}: ${issue.message}`;
  });
  const more = error.issues.length > 10 ? ` (and ${error.issues.length - 10} more)` : '';
  const firstPath = error.issues[0]?.path.map(String).join('.');
  const field = [options.prefix, firstPath].filter((part) => part !== undefined && part !== '').join('.');
  return new ValidationError(`${lines.join('; ')}${more}`, {
    ...(field ? { field } : {}),
    cause: error,
    code: options.code ?? 'invalid_input',
  });
}

/** Parses with a schema, throwing a ValidationError that names the field on failure. */
export function parseWith<S extends $ZodType>(
  schema: S,
  value: unknown,
  options: { prefix?: string; code?: 'invalid_input' | 'invalid_config' } = {},
): output<S> {
  const result = safeParse(schema, value);
  if (!result.success) throw toValidationError(result.error, options);
  return result.data;
}

/** Parses an HTTP body as JSON and then with a schema; any failure is a 400 whose message names the field. */
export function parseJsonBody<S extends $ZodType>(body: string, schema: S): output<S> {
  if (body.trim() === '') throw new RequestRejectedError('invalid_input', 'The body is empty; send a JSON object.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (cause) {
    throw new RequestRejectedError('invalid_input', `The body is not valid JSON: ${(cause as Error).message}`, {
      cause,
    });
  }
  const result = safeParse(schema, parsed);
  if (!result.success) {
    const error = toValidationError(result.error);
    throw new RequestRejectedError('invalid_input', error.message, { cause: error });
  }
  return result.data;
}
