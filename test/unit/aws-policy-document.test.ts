import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import { asTrustPolicy, parseTrustPolicyText, policySize } from '../../shared/plan/aws/policy-document.ts';
import { PROVIDER_ARN, thrown } from '../support/fixtures.ts';

const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Existing',
      Effect: 'Allow',
      Principal: { Federated: PROVIDER_ARN },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { 'x:sub': 'a b+c/d' } },
    },
  ],
};

describe('parseTrustPolicyText', () => {
  it.each([
    ['plain JSON', JSON.stringify(POLICY)],
    ['pretty JSON with surrounding white space', `\n  ${JSON.stringify(POLICY, null, 2)}\n`],
    ['URL-encoded (GetRole)', encodeURIComponent(JSON.stringify(POLICY))],
    [
      'URL-encoded in lower case',
      encodeURIComponent(JSON.stringify(POLICY)).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    ],
    ['aws iam get-role output, decoded', JSON.stringify({ Role: { RoleName: 'r', AssumeRolePolicyDocument: POLICY } })],
    [
      'aws iam get-role output, URL-encoded',
      JSON.stringify({ Role: { AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(POLICY)) } }),
    ],
  ])('reads %s', (_label, text) => {
    expect(parseTrustPolicyText(text)).toEqual(POLICY);
  });

  it('keeps a single Statement object as it is', () => {
    const single = { Version: '2012-10-17', Statement: POLICY.Statement[0] };
    expect(parseTrustPolicyText(JSON.stringify(single))).toEqual(single);
  });

  it.each([
    ['not JSON', '{"Statement": [', 'policy', /not valid JSON/],
    ['broken URL encoding', '%7B%ZZ', 'policy', /cannot be decoded/],
    ['an array', '[]', 'policy', /must be a JSON object/],
    ['no Statement', '{"Version":"2012-10-17"}', 'policy.Statement', /needs "Statement"/],
    ['a string Statement', '{"Statement":"x"}', 'policy.Statement', /needs "Statement"/],
    ['a non-object in Statement', '{"Statement":[{}, 1]}', 'policy.Statement', /needs "Statement"/],
    [
      'a get-role output without a document',
      '{"Role":{"RoleName":"r"}}',
      'policy.Role.AssumeRolePolicyDocument',
      /JSON object/,
    ],
  ])('rejects %s', (_label, text, field, message) => {
    const error = thrown(() => parseTrustPolicyText(text));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toMatch(message);
  });
});

describe('asTrustPolicy / policySize', () => {
  it('returns the same object when valid', () => {
    expect(asTrustPolicy(POLICY)).toBe(POLICY);
    expect(asTrustPolicy({ Statement: [] })).toEqual({ Statement: [] });
  });

  it('measures the minified JSON', () => {
    expect(policySize(POLICY)).toBe(JSON.stringify(POLICY).length);
    expect(policySize({ a: 'b' })).toBe(9);
  });
});
