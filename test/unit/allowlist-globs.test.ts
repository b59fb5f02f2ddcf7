import { describe, expect, it } from 'vitest';
import { type AllowlistShape, allowlistPatternProblem } from '../../shared/allowlist-globs.ts';
import { parseConfig } from '../../shared/config-text.ts';

describe('allowlists fail closed', () => {
  it.each<[AllowlistShape, string, RegExp | undefined]>([
    ['awsRole', 'arn:aws:iam::123456789012:role/astro-*', undefined],
    ['awsRole', 'arn:aws:iam::123456789012:role/teams/*/astro-*', undefined],
    ['awsRole', '**', /not an IAM role ARN pattern with its 12-digit account/],
    ['awsRole', '*', /not an IAM role ARN pattern/],
    ['awsRole', 'arn:aws:iam::*:role/astro-*', /account written out/],
    ['awsRole', 'arn:aws:iam::123456789012:role/astro-[', /unbalanced/],
    ['awsRole', 'arn:aws:iam::123456789012:role/', /not an IAM role ARN/],
    ['gcpServiceAccount', '*@acme-data.iam.gserviceaccount.com', undefined],
    ['gcpServiceAccount', '*', /project written out/],
    ['gcpServiceAccount', '*@*.iam.gserviceaccount.com', /project written out/],
    ['gcpProject', 'acme-data', undefined],
    ['gcpProject', 'acme-*', undefined],
    ['gcpProject', '*', /allows every project|not a project id/],
    ['azureIdentity', '00000000-0000-0000-0000-000000000000/rg-astro/astro-*', undefined],
    ['azureIdentity', '00000000-0000-0000-0000-000000000000/*/*', undefined],
    ['azureIdentity', '*/*/*', /subscription written out/],
  ])('%s %j', (shape, pattern, problem) => {
    const found = allowlistPatternProblem(shape, pattern);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('a config with a pattern that allows every account is refused, naming the field and the pattern', () => {
    expect(() => parseConfig('aws: { allowedRoles: ["**"] }')).toThrow(
      /aws\.allowedRoles\.0: "\*\*" is not an IAM role ARN/,
    );
    expect(() => parseConfig('gcp: { allowedWorkloadIdentityPrincipals: ["*"] }')).toThrow(
      /gcp\.allowedWorkloadIdentityPrincipals\.0/,
    );
  });
});
