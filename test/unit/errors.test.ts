import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  DoesNotFitError,
  IdentitySyncError,
  isIdentitySyncError,
  NameConflictError,
  ValidationError,
  WebhookRejectedError,
} from '../../shared/errors.ts';
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

  it('carries the HTTP status on WebhookRejectedError', () => {
    const error = new WebhookRejectedError('payload_too_large', 413, 'too big');
    expect(error).toBeInstanceOf(IdentitySyncError);
    expect(error).toMatchObject({ name: 'WebhookRejectedError', status: 413, code: 'payload_too_large' });
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
