import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DoesNotFitError,
  IdentitySyncError,
  isIdentitySyncError,
  NameConflictError,
  RequestRejectedError,
  RetryLaterError,
  TargetError,
  UnavailableError,
  ValidationError,
  WriteConflictError,
} from '../../shared/errors.ts';
import { AstroApiError } from '../../shared/intake/astro-api.ts';
import { parseWith, toValidationError } from '../../shared/zod-error.ts';
import { thrown } from '../support/fixtures.ts';

describe('error classes', () => {
  it('prefixes a ValidationError message with its field once', () => {
    const error = new ValidationError('bad value', { field: '--role-arn' });
    expect(error.message).toBe('--role-arn: bad value');
    expect(new ValidationError('--role-arn: bad value', { field: '--role-arn' }).message).toBe('--role-arn: bad value');
    expect(error).toMatchObject({ name: 'ValidationError', code: 'invalid_input', field: '--role-arn' });
    expect(new ValidationError('x', { code: 'invalid_config' }).code).toBe('invalid_config');
    expect(new ValidationError('x').field).toBeUndefined();
  });

  it('names a rejected request for what it is, with the status taken from its code', () => {
    const error = new RequestRejectedError('payload_too_large', 'too big');
    expect(error).toBeInstanceOf(IdentitySyncError);
    expect(error).toMatchObject({ name: 'RequestRejectedError', status: 413, code: 'payload_too_large' });
  });

  // The contract every edge maps by: a client mistake is a 4xx and never retried; an outage is a retryable 5xx;
  // our own broken setup is a 500 nobody should retry.
  it.each([
    ['bad input', new ValidationError('x'), 400, false],
    ['bad config', new ValidationError('x', { code: 'invalid_config' }), 500, false],
    ['no signature', new RequestRejectedError('invalid_signature', 'x'), 401, false],
    ['no token', new RequestRejectedError('unauthorized', 'x'), 401, false],
    ['GET', new RequestRejectedError('method_not_allowed', 'x'), 405, false],
    ['too big', new RequestRejectedError('payload_too_large', 'x'), 413, false],
    ['text/plain', new RequestRejectedError('unsupported_media_type', 'x'), 415, false],
    ['unknown Deployment', new RequestRejectedError('not_found', 'x'), 404, false],
    ['does not fit', new DoesNotFitError('x', { size: 1, limit: 0, remedies: [] }), 422, false],
    ['name taken', new NameConflictError('x', [], []), 422, false],
    ['cloud refused', new TargetError('x', { retryable: false }), 502, false],
    ['cloud throttled', new TargetError('x', { retryable: true }), 503, true],
    ['lost a race', new WriteConflictError('x'), 503, true],
    ['bus down', new UnavailableError('x'), 503, true],
    ['retry later', new RetryLaterError('x', ['m1']), 503, true],
    ['Astro API bad token', new AstroApiError('x', { status: 401, retryable: false }), 502, false],
    ['Astro API down', new AstroApiError('x', { status: 0, retryable: true }), 503, true],
  ])('%s answers %i (retryable %s)', (_, error, status, retryable) => {
    expect(error.status).toBe(status);
    expect(error.retryable).toBe(retryable);
    // The invariant itself: never a retryable 4xx, never a 5xx for what the caller got wrong.
    expect(error.status < 500 ? !error.retryable : true).toBe(true);
  });

  it('never lets a client mistake claim to be retryable', () => {
    expect(new IdentitySyncError('invalid_input', 'x', { retryable: true }).retryable).toBe(false);
    expect(new IdentitySyncError('invalid_input', 'x', { retryable: true }).status).toBe(400);
  });

  it('hides the message of a broken setup from callers', () => {
    expect(new ValidationError('secret x', { code: 'invalid_config' }).exposed).toBe(false);
    expect(new TargetError('x', { retryable: true }).exposed).toBe(true);
  });

  it('appends remedies to the message of unsafe plans', () => {
    const fit = new DoesNotFitError('Too big.', { size: 3000, limit: 2048, remedies: ['Raise it.', 'Split it.'] });
    expect(fit.message).toBe('Too big. Remedies: Raise it. Split it.');
    expect(fit).toMatchObject({ code: 'does_not_fit', size: 3000, limit: 2048, remedies: ['Raise it.', 'Split it.'] });
    const conflict = new NameConflictError('Taken.', ['ns-kpo'], []);
    expect(conflict.message).toBe('Taken.');
    expect(conflict).toMatchObject({ code: 'name_conflict', names: ['ns-kpo'], name: 'NameConflictError' });
  });

  it.each([
    [new ValidationError('x'), true],
    [new DoesNotFitError('x', { size: 1, limit: 0, remedies: [] }), true],
    [new Error('x'), false],
    ['x', false],
    [undefined, false],
  ])('isIdentitySyncError(%s) = %s', (value, expected) => {
    expect(isIdentitySyncError(value)).toBe(expected);
  });
});

describe('toValidationError / parseWith', () => {
  const schema = z.object({ a: z.object({ b: z.number() }), list: z.array(z.string()) });

  it('names every bad field by its dotted path, with the first as field', () => {
    const error = thrown(() => parseWith(schema, { a: { b: 'x' }, list: [1] }, { prefix: 'body' }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: 'body.a.b', code: 'invalid_input' });
    expect((error as Error).message).toMatch(/^body\.a\.b: .*; body\.list\.0: /);
  });

  it('labels a document-level issue and cuts the list at ten', () => {
    const top = z.array(z.number());
    const root = thrown(() => parseWith(top, 'nope', { code: 'invalid_config' }));
    expect((root as Error).message).toMatch(/^\(document\): /);
    expect(root).toMatchObject({ code: 'invalid_config', field: undefined });
    const many = top.safeParse(Array.from({ length: 13 }, () => 'x'));
    if (many.success) throw new Error('expected failure');
    const error = toValidationError(many.error);
    expect(error.message.split('; ')).toHaveLength(10);
    expect(error.message).toMatch(/\(and 3 more\)$/);
  });

  it('returns the parsed value on success', () => {
    expect(parseWith(schema, { a: { b: 1 }, list: [], extra: true })).toEqual({ a: { b: 1 }, list: [] });
  });
});
