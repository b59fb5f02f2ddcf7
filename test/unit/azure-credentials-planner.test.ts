import { describe, expect, it } from 'vitest';
import { DoesNotFitError, NameConflictError, ValidationError } from '../../shared/errors.ts';
import {
  AZURE_AUDIENCE,
  credentialName,
  type FederatedCredential,
  normalizeCredentials,
  planAzureCredentials,
} from '../../shared/plan/azure/credentials-planner.ts';
import { grantFor, NAMESPACE as NS, subject, thrown } from '../support/fixtures.ts';

const AKS = 'https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-2222/';
const sa = (component: string) => (component === 'kpo' ? `${NS}-kpo` : `${NS}-${component}-serviceaccount`);
const desired = (component: string, issuer = AKS): FederatedCredential => ({
  name: `${NS}-${component}`,
  issuer,
  subject: subject(NS, sa(component)),
  audiences: [AZURE_AUDIENCE],
});
const unrelated = (i: number): FederatedCredential => ({
  name: `github-${i}`,
  issuer: 'https://token.actions.githubusercontent.com',
  subject: `repo:org/app${i}:ref:refs/heads/main`,
  audiences: [AZURE_AUDIENCE],
});
const plan = (
  existing: unknown,
  components = ['kpo', 'scheduler'],
  extra: { maxCredentials?: number; issuer?: string } = {},
) => planAzureCredentials({ existing, issuer: extra.issuer ?? AKS, grant: grantFor(NS, { components }), ...extra });

describe('normalizeCredentials', () => {
  const flat = unrelated(1);
  const arm = {
    id: '/subscriptions/x/.../github-1',
    name: flat.name,
    type: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials',
    properties: { issuer: flat.issuer, subject: flat.subject, audiences: flat.audiences },
  };

  it.each([
    ['a flat list', [flat]],
    ['an ARM list', [arm]],
    ['an ARM page', { value: [arm], nextLink: null }],
    ['an ARM page without nextLink', { value: [arm] }],
    ['a flat page', { value: [flat] }],
  ])('reads %s', (_label, value) => {
    expect(normalizeCredentials(value)).toEqual([flat]);
  });

  it('reads missing audiences as an empty list', () => {
    expect(normalizeCredentials([{ name: 'a', issuer: 'i', subject: 's' }])).toEqual([
      { name: 'a', issuer: 'i', subject: 's', audiences: [] },
    ]);
  });

  it.each([
    ['an object', { credentials: [] }, 'credentials'],
    ['an object beside an ARM page', { value: [], foo: 1 }, 'credentials.foo'],
    ['a page that continues', { value: [], nextLink: 'https://management.azure.com/next' }, 'credentials.nextLink'],
    ['a single credential', flat, 'credentials'],
    ['a string', 'none', 'credentials'],
  ])('rejects %s, saying what to give instead', (_label, value, field) => {
    const error = thrown(() => normalizeCredentials(value));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toContain('az identity federated-credential list');
  });

  it.each([
    ['a credential without subject', [flat, { name: 'a', issuer: 'i' }], 'credentials.1'],
    ['non-string audiences', [{ ...flat, audiences: [1] }], 'credentials.0'],
    ['an ARM entry without name', [{ properties: { issuer: 'i', subject: 's' } }], 'credentials.0'],
  ])('rejects %s', (_label, value, field) => {
    const error = thrown(() => normalizeCredentials(value));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ field });
  });
});

describe('planAzureCredentials', () => {
  it('creates <ns>-<component> credentials with the exact issuer and the token exchange audience', () => {
    const result = plan([unrelated(1)]);
    expect(result).toEqual({
      changed: true,
      added: [subject(NS, `${NS}-kpo`), subject(NS, `${NS}-scheduler-serviceaccount`)],
      create: [desired('kpo'), desired('scheduler')],
      present: [],
      presentSubjects: [],
    });
    expect(credentialName(NS, 'dag-processor')).toBe(`${NS}-dag-processor`);
  });

  it('uses explicit subjects even when the namespace wildcard applies', () => {
    const result = planAzureCredentials({ existing: [], issuer: AKS, grant: grantFor(NS, { wildcard: true }) });
    expect(result.create).toHaveLength(6);
    expect(result.create.every((c) => !c.subject.includes('*'))).toBe(true);
  });

  it('does not create a credential present under another name', () => {
    const renamed = { ...desired('kpo'), name: 'legacy-name' };
    const result = plan([renamed]);
    expect(result.create).toEqual([desired('scheduler')]);
    expect(result.present).toEqual([renamed]);
    expect(result.presentSubjects).toEqual([renamed.subject]);
    expect(result.added).toEqual([subject(NS, `${NS}-scheduler-serviceaccount`)]);
  });

  it.each([
    ['without', AKS.slice(0, -1), AKS],
    ['with', `${AKS}x/`, `${AKS}x`],
  ])('treats an issuer %s a trailing slash as different', (_label, existingIssuer, issuer) => {
    const other = { ...desired('kpo', existingIssuer), name: 'older' };
    const result = plan([other], ['kpo'], { issuer });
    expect(result.create).toEqual([desired('kpo', issuer)]);
    expect(result.present).toEqual([]);
  });

  it.each([
    ['same name, other subject', { ...desired('kpo'), subject: subject('elsewhere', 'x') }],
    ['same name in other case, other issuer', { ...desired('kpo', `${AKS}old/`), name: `${NS}-KPO` }],
  ])('refuses a name held by another credential (%s) and creates nothing', (_label, squatter) => {
    const error = thrown(() => plan([squatter], ['kpo', 'scheduler', 'worker']));
    expect(error).toBeInstanceOf(NameConflictError);
    expect(error).toMatchObject({ code: 'name_conflict', names: [`${NS}-kpo`] });
    expect((error as Error).message).toContain(
      "already exist for another issuer or subject; a Deployment's credentials are created all or nothing, so none of them can be added to this identity",
    );
    expect((error as Error).message).not.toMatch(/was created|were created/);
  });

  it('words the audience conflict so that it is true for a plan and for a real run', () => {
    const error = thrown(() => plan([{ ...desired('kpo'), audiences: ['other'] }]));
    expect(error).toBeInstanceOf(NameConflictError);
    expect((error as Error).message).toMatch(/so none of them can be added to this identity/);
    expect((error as Error).message).not.toMatch(/was created|were created/);
  });

  it('is all or nothing at the credential limit', () => {
    const existing = Array.from({ length: 18 }, (_, i) => unrelated(i));
    expect(plan(existing).create).toHaveLength(2);
    const error = thrown(() => plan(existing, ['kpo', 'scheduler', 'worker']));
    expect(error).toBeInstanceOf(DoesNotFitError);
    expect(error).toMatchObject({ size: 21, limit: 20, code: 'does_not_fit' });
    expect((error as DoesNotFitError).summary).toMatch(
      /^The identity has 18 of 20 federated credentials; this Deployment needs 3 more \(21 > 20\); a Deployment's credentials are created all or nothing, so none of them can be added to this identity\./,
    );
    expect((error as Error).message).not.toMatch(/was created|were created/);
    expect((error as DoesNotFitError).remedies.length).toBeGreaterThan(0);
    expect(() => plan([], ['kpo', 'scheduler'], { maxCredentials: 1 })).toThrow(DoesNotFitError);
  });

  it('does not check the limit when nothing is created', () => {
    const existing = [...Array.from({ length: 25 }, (_, i) => unrelated(i)), desired('kpo')];
    expect(plan(existing, ['kpo'])).toMatchObject({ changed: false, create: [], present: [desired('kpo')] });
  });

  describe('present', () => {
    it('reports every credential, sorted by name, and their subjects when nothing changes', () => {
      const existing = [desired('scheduler'), unrelated(1), { ...desired('kpo'), name: 'a-legacy-kpo' }];
      const result = plan(existing);
      expect(result).toMatchObject({ changed: false, create: [], added: [] });
      expect(result.present).toEqual([{ ...desired('kpo'), name: 'a-legacy-kpo' }, desired('scheduler')]);
      expect(result.presentSubjects).toEqual([subject(NS, `${NS}-kpo`), subject(NS, `${NS}-scheduler-serviceaccount`)]);
    });

    it('reports the part already there when some are created', () => {
      const result = plan([desired('scheduler')], ['kpo', 'scheduler', 'worker']);
      expect(result.create.map((c) => c.name)).toEqual([`${NS}-kpo`, `${NS}-worker`]);
      expect(result.present).toEqual([desired('scheduler')]);
      expect(result.presentSubjects).toEqual([subject(NS, `${NS}-scheduler-serviceaccount`)]);
    });
  });

  it('is idempotent when the created credentials are appended', () => {
    const existing = [unrelated(1), desired('kpo')];
    const once = planAzureCredentials({ existing, issuer: AKS, grant: grantFor(NS) });
    expect(once.create.map((c) => c.name)).toEqual(
      ['apiserver', 'dag-processor', 'scheduler', 'triggerer', 'worker'].map((c) => `${NS}-${c}`),
    );
    const twice = planAzureCredentials({ existing: [...existing, ...once.create], issuer: AKS, grant: grantFor(NS) });
    expect(twice).toMatchObject({ changed: false, added: [], create: [] });
    expect(twice.present).toHaveLength(6);
  });

  it.each([
    ['an http issuer', { issuer: 'http://issuer.example.com/' }],
    ['a forged grant', { grant: { ...grantFor(NS), subjects: [subject('victim', 'victim-kpo')] } }],
    ['existing that is not a list', { existing: 'none' }],
  ])('rejects %s', (_label, overrides) => {
    const input = { existing: [], issuer: AKS, grant: grantFor(NS), ...overrides };
    expect(() => planAzureCredentials(input)).toThrow(ValidationError);
  });
});
