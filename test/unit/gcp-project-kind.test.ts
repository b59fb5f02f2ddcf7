import { describe, expect, it } from 'vitest';
import { DoesNotFitError, ValidationError } from '../../shared/errors.ts';
import type { GcpPolicy } from '../../shared/plan/gcp/policy-planner.ts';
import { gcpProjectKind } from '../../shared/plan/gcp/project-kind.ts';
import { createAllowlist } from '../../shared/plan/guardrails.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { TargetOf } from '../../shared/reconcile/target-kind.ts';
import { thrown } from '../support/fixtures.ts';

const ASTRO = 'astro-nebular-gravity-1234@astro-prod-123.iam.gserviceaccount.com';
const OTHER_ASTRO = 'astro-old-deployment-9999@astro-prod-123.iam.gserviceaccount.com';
const CUSTOMER_SA = 'etl@acme-analytics.iam.gserviceaccount.com';
const member = (email: string) => `serviceAccount:${email}`;
const BQ = 'roles/bigquery.dataViewer';
const GCS = 'roles/storage.objectViewer';
const LOGS = 'roles/logging.viewer';
const OWNER = { role: 'roles/owner', members: ['user:owner@example.com'] };
const condition = { title: 'office hours', expression: 'request.time.getHours("UTC") < 18' };

const isAstro = createAllowlist(['astro-*@astro-prod-123.iam.gserviceaccount.com']);
// What gcp.allowedProjectRoles allows; LOGS is allowed but on no rule (a role taken off a rule later).
const kind = gcpProjectKind(isAstro, [BQ, GCS, LOGS]);
const target = (roles: readonly string[]): TargetOf<'gcp-project'> => ({
  kind: 'gcp-project',
  cloud: 'gcp',
  id: 'acme-analytics',
  project: 'acme-analytics',
  roles,
});
const grant = desiredGrant({ namespace: 'nebular-gravity-1234', selection: { components: ['scheduler'] } });
const input = (roles: readonly string[], extra: { principal?: string; roles?: readonly string[] } = {}) => ({
  target: target(roles),
  grant,
  issuer: undefined,
  pool: undefined,
  principal: extra.principal ?? ASTRO,
  roles: extra.roles,
  dr: false,
});

describe('gcpProjectKind', () => {
  it('is a principal kind with an etag (no settle)', () => {
    expect(kind).toMatchObject({ kind: 'gcp-project', needs: 'principal', owner: 'principal', settle: false });
  });

  describe('grant', () => {
    const cases: Array<{
      name: string;
      policy: GcpPolicy;
      roles: string[];
      added: string[];
      present: string[];
      bindings: GcpPolicy['bindings'];
    }> = [
      {
        name: 'adds a binding per role to a policy that has none of them',
        policy: { version: 1, etag: 'BwY=', bindings: [OWNER] },
        roles: [GCS, BQ],
        added: [`${BQ} ${member(ASTRO)}`, `${GCS} ${member(ASTRO)}`],
        present: [],
        bindings: [OWNER, { role: BQ, members: [member(ASTRO)] }, { role: GCS, members: [member(ASTRO)] }],
      },
      {
        name: 'appends to an existing binding after its members, in their order',
        policy: { bindings: [OWNER, { role: BQ, members: ['user:b@example.com', 'group:a@example.com'] }] },
        roles: [BQ],
        added: [`${BQ} ${member(ASTRO)}`],
        present: [],
        bindings: [OWNER, { role: BQ, members: ['user:b@example.com', 'group:a@example.com', member(ASTRO)] }],
      },
      {
        name: 'adds only what is missing and reports what was there',
        policy: { bindings: [{ role: BQ, members: [member(ASTRO)] }] },
        roles: [BQ, GCS],
        added: [`${GCS} ${member(ASTRO)}`],
        present: [`${BQ} ${member(ASTRO)}`],
        bindings: [
          { role: BQ, members: [member(ASTRO)] },
          { role: GCS, members: [member(ASTRO)] },
        ],
      },
      {
        name: 'does not count a conditional binding as the grant, and leaves it as it is',
        policy: { version: 3, bindings: [{ role: BQ, members: [member(ASTRO)], condition }] },
        roles: [BQ],
        added: [`${BQ} ${member(ASTRO)}`],
        present: [],
        bindings: [
          { role: BQ, members: [member(ASTRO)], condition },
          { role: BQ, members: [member(ASTRO)] },
        ],
      },
    ];
    it.each(cases)('$name', ({ policy, roles, added, present, bindings }) => {
      const before = structuredClone(policy);
      const plan = kind.grant(policy, input(roles));
      expect(plan).toMatchObject({ changed: true, added, present });
      expect(plan.next.bindings).toEqual(bindings);
      const { bindings: _b, ...rest } = plan.next;
      const { bindings: _a, ...restBefore } = before;
      expect(rest).toEqual(restBefore);
      expect(policy).toEqual(before);
    });

    it('changes nothing, and returns the very document, when every role is there', () => {
      const policy: GcpPolicy = {
        etag: 'BwY=',
        bindings: [
          OWNER,
          { role: BQ, members: [member(ASTRO)] },
          { role: GCS, members: ['user:x@example.com', member(ASTRO)] },
        ],
      };
      const plan = kind.grant(policy, input([BQ, GCS]));
      expect(plan).toEqual({
        changed: false,
        added: [],
        present: [`${BQ} ${member(ASTRO)}`, `${GCS} ${member(ASTRO)}`],
        next: policy,
      });
      expect(plan.next).toBe(policy);
    });

    it('plans the roles the request carries over the bound target’s (requests of several rules share a round)', () => {
      const plan = kind.grant({ bindings: [OWNER] }, input([BQ], { roles: [GCS] }));
      expect(plan.added).toEqual([`${GCS} ${member(ASTRO)}`]);
    });

    it.each([
      [
        'a role outside gcp.allowedProjectRoles',
        ['roles/pubsub.publisher'],
        /roles\/pubsub\.publisher is not in gcp\.allowedProjectRoles/,
      ],
      ['a basic role even if listed as managed', ['roles/owner'], /basic role/],
      ['an IAM role even if listed as managed', ['roles/iam.serviceAccountTokenCreator'], /IAM role/],
    ])('refuses %s before planning anything', (_name, roles, message) => {
      const unsafe = gcpProjectKind(isAstro, [BQ, 'roles/owner', 'roles/iam.serviceAccountTokenCreator']);
      const error = thrown(() => unsafe.grant({ bindings: [OWNER] }, input([BQ, ...roles])));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toMatch(message);
      expect((error as ValidationError).message).toMatch(/project acme-analytics/);
    });

    it('refuses a principal that is not a service account email', () => {
      expect(() => kind.grant({ bindings: [] }, input([BQ], { principal: 'user:someone@example.com' }))).toThrow(
        ValidationError,
      );
    });

    it('refuses to go over 1,500 members, counting every binding', () => {
      const crowd = Array.from({ length: 1499 }, (_, i) => `user:p${i}@example.com`);
      const policy: GcpPolicy = { bindings: [{ role: 'roles/viewer', members: crowd }] };
      expect(kind.grant(policy, input([BQ])).changed).toBe(true);
      const error = thrown(() => kind.grant(policy, input([BQ, GCS])));
      expect(error).toBeInstanceOf(DoesNotFitError);
      expect(error).toMatchObject({ size: 1501, limit: 1500 });
    });
  });

  describe('revoke and owned', () => {
    const policy: GcpPolicy = {
      version: 3,
      etag: 'BwY=',
      bindings: [
        OWNER,
        { role: BQ, members: ['user:analyst@example.com', member(ASTRO), member(OTHER_ASTRO)] },
        { role: GCS, members: [member(ASTRO)] },
        // Allowed, but on no rule any more: still ours to take back.
        { role: LOGS, members: [member(ASTRO), member(CUSTOMER_SA)] },
        // Not a managed role: a person's grant of the same identity.
        { role: 'roles/pubsub.subscriber', members: [member(ASTRO)] },
        { role: BQ, members: [member(ASTRO)], condition },
      ],
      auditConfigs: [{ service: 'allServices', auditLogConfigs: [{ logType: 'DATA_READ' }] }],
    };

    it('owns the Astro identities in unconditional bindings of the managed roles, nothing else', () => {
      expect([...kind.owned(policy)].sort()).toEqual([ASTRO, OTHER_ASTRO]);
      const onlyPeople: GcpPolicy = {
        bindings: [
          { role: BQ, members: ['user:a@example.com', member(CUSTOMER_SA), `deleted:${member(ASTRO)}?uid=1`] },
          { role: GCS, members: [member(OTHER_ASTRO)], condition },
          { role: 'roles/pubsub.subscriber', members: [member(ASTRO)] },
        ],
      };
      // A deleted Astro identity in a managed binding is still this tool's entry (stale: it serves no Deployment).
      expect([...kind.owned(onlyPeople)]).toEqual([`deleted:${member(ASTRO)}?uid=1`]);
    });

    it('takes back a deleted Astro identity it owns, and nothing else', () => {
      const deleted = `deleted:${member(ASTRO)}?uid=1`;
      const withDeleted: GcpPolicy = {
        bindings: [
          { role: BQ, members: ['user:a@example.com', deleted] },
          { role: GCS, members: [deleted] },
        ],
      };
      const plan = kind.revoke(withDeleted, deleted);
      expect(plan.removed).toEqual([`${BQ} ${deleted}`, `${GCS} ${deleted}`]);
      expect(plan.next.bindings).toEqual([{ role: BQ, members: ['user:a@example.com'] }]);
      const person = `deleted:${member(CUSTOMER_SA)}?uid=2`;
      expect(kind.revoke({ bindings: [{ role: BQ, members: [person] }] }, person).changed).toBe(false);
    });

    it('takes one identity out of every managed role, drops emptied bindings, keeps everything else', () => {
      const plan = kind.revoke(policy, ASTRO);
      expect(plan.changed).toBe(true);
      expect(plan.removed).toEqual(
        [`${BQ} ${member(ASTRO)}`, `${LOGS} ${member(ASTRO)}`, `${GCS} ${member(ASTRO)}`].sort(),
      );
      expect(plan.next).toEqual({
        ...policy,
        bindings: [
          OWNER,
          { role: BQ, members: ['user:analyst@example.com', member(OTHER_ASTRO)] },
          { role: LOGS, members: [member(CUSTOMER_SA)] },
          { role: 'roles/pubsub.subscriber', members: [member(ASTRO)] },
          { role: BQ, members: [member(ASTRO)], condition },
        ],
      });
    });

    it.each([
      ['an identity the allowlist does not call Astro’s, although it is a member', CUSTOMER_SA],
      ['an Astro identity that has no member here', 'astro-absent-0000@astro-prod-123.iam.gserviceaccount.com'],
    ])('changes nothing for %s', (_name, principal) => {
      const plan = kind.revoke(policy, principal);
      expect(plan).toEqual({ changed: false, removed: [], next: policy });
    });

    it('judges ownership by the managed roles alone: a role off the allowlist is left to a person', () => {
      const narrower = gcpProjectKind(isAstro, [BQ]);
      expect(narrower.revoke(policy, ASTRO).removed).toEqual([`${BQ} ${member(ASTRO)}`]);
      expect([...narrower.owned({ bindings: [{ role: GCS, members: [member(ASTRO)] }] })]).toEqual([]);
    });
  });
});
