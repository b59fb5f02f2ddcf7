import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import {
  assertAzureIdentityName,
  assertAzureResourceGroup,
  assertAzureSubscriptionId,
  assertFederatedCredentialName,
  assertGcpServiceAccountEmail,
  assertIssuer,
  assertNamespace,
  assertProjectNumber,
  assertServiceAccountName,
  assertWorkloadIdentityPool,
  createAllowlist,
  isGcpServiceAccountEmail,
  isRoleArn,
  issuerHostPath,
  parseRoleArn,
  printable,
} from '../../shared/plan/guardrails.ts';
import { thrown } from '../support/fixtures.ts';

describe('assertNamespace', () => {
  it.each(['a', 'ab', 'a-b', '0', 'quasarian-nebula-7421', '1abc', 'a'.repeat(63)])('accepts %j', (value) => {
    expect(assertNamespace(value)).toBe(value);
  });

  it.each([
    ['wildcard', '*'],
    ['colon', 'a:b'],
    ['path traversal', '../x'],
    ['slash', 'a/b'],
    ['uppercase', 'Prod'],
    ['Cyrillic a look-alike', 'prod-\u0430pp'],
    ['full-width digit', 'ns\uff11'],
    ['64 characters', 'a'.repeat(64)],
    ['empty', ''],
    ['leading dash', '-abc'],
    ['trailing dash', 'abc-'],
    ['dot', 'a.b'],
    ['underscore', 'a_b'],
    ['space', 'a b'],
    ['trailing newline', 'abc\n'],
    ['question mark', 'ab?'],
  ])('rejects %s', (_label, value) => {
    const error = thrown(() => assertNamespace(value));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'invalid_input', field: 'namespace' });
    expect((error as Error).message).toMatch(/^namespace: .* is not a Kubernetes namespace/);
  });

  it('names the custom field and escapes control characters in the message', () => {
    const error = thrown(() => assertNamespace('bad\u0000ns', 'data.deployment.namespace'));
    expect(error).toMatchObject({ field: 'data.deployment.namespace' });
    expect((error as Error).message).toContain('bad\\u0000ns');
    expect((error as Error).message).not.toContain('\u0000');
  });
});

describe('assertServiceAccountName', () => {
  it.each(['ns-kpo', 'a.b-c', 'x'.repeat(253)])('accepts %j', (value) => {
    expect(assertServiceAccountName(value)).toBe(value);
  });
  it.each(['', '*', 'a:b', 'A', 'x'.repeat(254), 'a..b', '-a', 'a/b'])('rejects %j', (value) => {
    expect(() => assertServiceAccountName(value)).toThrow(ValidationError);
  });
});

describe('assertIssuer', () => {
  it.each([
    'https://oidc.eks.us-east-1.amazonaws.com/id/ABC',
    'https://issuer.example.com/',
    'https://issuer.example.com',
    'https://westeurope.oic.prod-aks.azure.com/tenant/guid/',
    'https://host:8443/path',
  ])('accepts %j unchanged (trailing slash kept)', (value) => {
    expect(assertIssuer(value)).toBe(value);
  });

  it.each([
    ['plain http', 'http://issuer.example.com', /must use https:\/\//],
    ['query', 'https://issuer.example.com/?a=1', /query or fragment/],
    ['empty query', 'https://issuer.example.com/?', /query or fragment/],
    ['fragment', 'https://issuer.example.com/#x', /query or fragment/],
    ['credentials', 'https://user:pw@issuer.example.com/', /credentials/],
    ['user only', 'https://user@issuer.example.com/', /credentials/],
    ['not a URL', 'issuer.example.com', /not a URL/],
    ['empty', '', /not a URL/],
    ['leading space', ' https://issuer.example.com', /white space/],
    ['other scheme', 'ftp://issuer.example.com', /must use https:\/\//],
  ])('rejects %s', (_label, value, message) => {
    const error = thrown(() => assertIssuer(value));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(message);
    expect(error).toMatchObject({ field: 'issuer' });
  });

  it.each([
    ['http://issuer.example.com/id/1', 'must use https://'],
    ['ftp://issuer.example.com', 'must use https://'],
    ['https:issuer.example.com', 'must start with https://'],
  ])('says what is wrong with %j once', (value, problem) => {
    const message = (thrown(() => assertIssuer(value, '--issuer')) as Error).message;
    expect(message).toBe(`--issuer: "${value}" is not a valid OIDC issuer: it ${problem}`);
  });

  it.each([
    ['https://issuer.example.com/', 'issuer.example.com'],
    ['https://issuer.example.com', 'issuer.example.com'],
    ['https://oidc.eks.eu-west-1.amazonaws.com/id/ABC/', 'oidc.eks.eu-west-1.amazonaws.com/id/ABC'],
    ['HTTPS://Issuer.example.com//', 'Issuer.example.com'],
  ])('issuerHostPath(%j) = %j', (issuer, expected) => {
    expect(issuerHostPath(issuer)).toBe(expected);
  });
});

describe('parseRoleArn', () => {
  it.each([
    ['arn:aws:iam::123456789012:role/astro', 'aws', '/', 'astro'],
    ['arn:aws:iam::123456789012:role/teams/data/astro-role', 'aws', '/teams/data/', 'astro-role'],
    ['arn:aws-cn:iam::123456789012:role/x+=,.@-_', 'aws-cn', '/', 'x+=,.@-_'],
    ['arn:aws-us-gov:iam::000000000001:role/service-role/gov', 'aws-us-gov', '/service-role/', 'gov'],
    ['arn:aws-iso-b:iam::123456789012:role/iso', 'aws-iso-b', '/', 'iso'],
  ])('parses %s', (arn, partition, path, name) => {
    expect(parseRoleArn(arn)).toEqual({ arn, partition, account: arn.split(':')[4], path, name });
    expect(isRoleArn(arn)).toBe(true);
  });

  it.each([
    ['short account', 'arn:aws:iam::123:role/x'],
    ['wildcard name', 'arn:aws:iam::123456789012:role/*'],
    ['wildcard in name', 'arn:aws:iam::123456789012:role/astro-*'],
    ['wildcard in path', 'arn:aws:iam::123456789012:role/a*/x'],
    ['question mark in path', 'arn:aws:iam::123456789012:role/a?/x'],
    ['empty path segment', 'arn:aws:iam::123456789012:role/a//x'],
    ['user ARN', 'arn:aws:iam::123456789012:user/alice'],
    ['no slash', 'arn:aws:iam::123456789012:rolefoo'],
    ['unknown partition', 'arn:azure:iam::123456789012:role/x'],
    ['region set', 'arn:aws:iam:us-east-1:123456789012:role/x'],
    ['65-character name', `arn:aws:iam::123456789012:role/${'n'.repeat(65)}`],
    ['trailing slash', 'arn:aws:iam::123456789012:role/x/'],
    ['empty', ''],
  ])('rejects %s', (_label, value) => {
    const error = thrown(() => parseRoleArn(value, '--role-arn'));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field: '--role-arn', code: 'invalid_input' });
  });
});

describe('GCP identifiers', () => {
  it.each([
    'astro-sync@customer-project.iam.gserviceaccount.com',
    '123456789012-compute@developer.gserviceaccount.com',
    'my-app-id@appspot.gserviceaccount.com',
  ])('accepts service account %s', (email) => {
    expect(assertGcpServiceAccountEmail(email)).toBe(email);
    expect(isGcpServiceAccountEmail(email)).toBe(true);
  });

  it.each([
    'Astro@customer-project.iam.gserviceaccount.com',
    'abc@customer-project.iam.gserviceaccount.com',
    'astro-sync@customer-project.iam.gserviceaccount.com.evil.com',
    'astro-sync@*.iam.gserviceaccount.com',
    'astro-sync@customer-project.iam.gserviceaccount.com ',
    'user@gmail.com',
    'arn:aws:iam::123456789012:role/x',
  ])('rejects service account %j', (email) => {
    expect(() => assertGcpServiceAccountEmail(email)).toThrow(ValidationError);
    expect(isGcpServiceAccountEmail(email)).toBe(false);
  });

  it.each(['astro-gke.svc.id.goog', 'customer-project-123.svc.id.goog'])('accepts pool %s', (pool) => {
    expect(assertWorkloadIdentityPool(pool)).toBe(pool);
  });
  it.each([
    'abc.svc.id.goog',
    'Astro-gke.svc.id.goog',
    'astro-gke.svc.id.goog.evil',
    'astro-gke.svc.id.googx',
    '*.svc.id.goog',
    'astro-gke',
  ])('rejects pool %j', (pool) => {
    expect(() => assertWorkloadIdentityPool(pool)).toThrow(/svc\.id\.goog/);
  });

  it.each(['123456', '98765432101234567890'])('accepts project number %s', (n) => {
    expect(assertProjectNumber(n)).toBe(n);
  });
  it.each(['012345', '12345', 'my-project', '1234567a', '123456789012345678901'])('rejects project number %j', (n) => {
    expect(() => assertProjectNumber(n)).toThrow(ValidationError);
  });
});

describe('Azure names', () => {
  it('validates subscription ids', () => {
    expect(assertAzureSubscriptionId('0b1f6471-1bf0-4dda-aec3-cb9272f09590')).toBe(
      '0b1f6471-1bf0-4dda-aec3-cb9272f09590',
    );
    expect(() => assertAzureSubscriptionId('0b1f6471-1bf0-4dda-aec3')).toThrow(/UUID/);
  });

  it.each(['rg', 'my_rg.prod(1)', 'r'.repeat(90)])('accepts resource group %j', (rg) => {
    expect(assertAzureResourceGroup(rg)).toBe(rg);
  });
  it.each(['', 'rg.', 'r'.repeat(91), 'a/b', 'rg*'])('rejects resource group %j', (rg) => {
    expect(() => assertAzureResourceGroup(rg)).toThrow(ValidationError);
  });

  it.each(['mi1', 'Astro_Identity-1', 'm'.repeat(128)])('accepts identity %j', (name) => {
    expect(assertAzureIdentityName(name)).toBe(name);
  });
  it.each(['mi', '-mi', '_mi', 'm'.repeat(129), 'mi/x', 'mi.x'])('rejects identity %j', (name) => {
    expect(() => assertAzureIdentityName(name)).toThrow(ValidationError);
  });

  it.each(['abc', 'ns-scheduler', 'A_b-1', 'c'.repeat(120)])('accepts credential name %j', (name) => {
    expect(assertFederatedCredentialName(name)).toBe(name);
  });
  it.each(['ab', '-abc', 'c'.repeat(121), 'a.bc', 'a bc'])('rejects credential name %j', (name) => {
    expect(() => assertFederatedCredentialName(name)).toThrow(/federated credential name/);
  });
});

describe('createAllowlist', () => {
  it('allows nothing when the list is empty', () => {
    const allowed = createAllowlist([]);
    expect(allowed('arn:aws:iam::123456789012:role/x')).toBe(false);
    expect(allowed('')).toBe(false);
    expect(allowed('*')).toBe(false);
  });

  it.each([
    ['arn:aws:iam::123456789012:role/*', 'arn:aws:iam::123456789012:role/astro', true],
    ['arn:aws:iam::123456789012:role/*', 'arn:aws:iam::123456789012:role/teams/astro', false],
    ['arn:aws:iam::123456789012:role/**', 'arn:aws:iam::123456789012:role/teams/astro', true],
    ['arn:aws:iam::123456789012:role/astro-*', 'arn:aws:iam::123456789012:role/astro-prod', true],
    ['arn:aws:iam::123456789012:role/astro-*', 'arn:aws:iam::210987654321:role/astro-prod', false],
    ['*@customer-project.iam.gserviceaccount.com', 'a-sync@customer-project.iam.gserviceaccount.com', true],
    ['*@customer-project.iam.gserviceaccount.com', 'a-sync@other-project.iam.gserviceaccount.com', false],
    ['sub/rg/*', 'sub/rg/identity', true],
    ['sub/*', 'sub/rg/identity', false],
    ['!sub/rg/x', 'sub/rg/y', false],
    ['exact', 'exact', true],
    ['exact', 'Exact', false],
  ])('glob %j on %j -> %s', (glob, value, expected) => {
    expect(createAllowlist([glob])(value)).toBe(expected);
  });

  it('matches when any glob of several matches', () => {
    const allowed = createAllowlist(['a/*', 'b/*']);
    expect([allowed('a/1'), allowed('b/2'), allowed('c/3')]).toEqual([true, true, false]);
  });
});

describe('printable', () => {
  it('escapes quotes and control characters and cuts long values', () => {
    expect(printable('a"b\n')).toBe('a\\"b\\n');
    const long = printable('x'.repeat(500));
    expect(long).toHaveLength(120);
    expect(long.endsWith('...')).toBe(true);
  });
});
