import { describe, expect, it } from 'vitest';
import {
  isDeletedGcpMember,
  ownedGcpPrincipals,
  revokeGcpPrincipal,
} from '../../shared/plan/gcp/member-roles-planner.ts';
import { TOKEN_CREATOR } from '../../shared/plan/gcp/token-creator-kind.ts';
import { createAllowlist } from '../../shared/plan/guardrails.ts';

const ASTRO = createAllowlist(['*@astro-prod.iam.gserviceaccount.com']);
const GONE = 'deleted:serviceAccount:astro-wi-a@astro-prod.iam.gserviceaccount.com?uid=123456789012345678901';
const PERSONS_GONE = 'deleted:serviceAccount:ops@acme.iam.gserviceaccount.com?uid=42';

describe('GCP members IAM shows as deleted', () => {
  const policy = {
    bindings: [
      {
        role: TOKEN_CREATOR,
        members: [GONE, PERSONS_GONE, 'serviceAccount:astro-wi-b@astro-prod.iam.gserviceaccount.com'],
      },
      { role: TOKEN_CREATOR, members: [GONE], condition: { expression: 'true' } },
    ],
  };

  it.each([
    [GONE, true],
    [PERSONS_GONE, true],
    ['serviceAccount:astro-wi-a@astro-prod.iam.gserviceaccount.com', false],
    ['deleted:user:a@b.com?uid=1', false],
  ])('%s is a deleted service-account member: %s', (member, deleted) => {
    expect(isDeletedGcpMember(member)).toBe(deleted);
  });

  it('an Astro identity deleted from our unconditional binding is ours; a person’s, or a conditional one, is not', () => {
    expect([...ownedGcpPrincipals(policy, [TOKEN_CREATOR], ASTRO)].sort()).toEqual(
      [GONE, 'astro-wi-b@astro-prod.iam.gserviceaccount.com'].sort(),
    );
  });

  it('revoking it removes exactly that member from the unconditional binding', () => {
    const { changed, removed, next } = revokeGcpPrincipal(policy, [TOKEN_CREATOR], GONE);
    expect(changed).toBe(true);
    expect(removed).toEqual([`${TOKEN_CREATOR} ${GONE}`]);
    expect(next.bindings).toEqual([
      { role: TOKEN_CREATOR, members: [PERSONS_GONE, 'serviceAccount:astro-wi-b@astro-prod.iam.gserviceaccount.com'] },
      policy.bindings[1],
    ]);
  });
});
