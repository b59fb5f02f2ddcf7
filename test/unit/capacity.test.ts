import { describe, expect, it } from 'vitest';
import { TargetError } from '../../shared/errors.ts';
import { awsPrincipalTrustKind } from '../../shared/plan/aws/principal-trust-kind.ts';
import { awsRoleTrustKind } from '../../shared/plan/aws/role-trust-kind.ts';
import { azureIdentityKind } from '../../shared/plan/azure/identity-kind.ts';
import { gcpProjectKind } from '../../shared/plan/gcp/project-kind.ts';
import { gcpServiceAccountKind } from '../../shared/plan/gcp/service-account-kind.ts';
import { gcpTokenCreatorKind } from '../../shared/plan/gcp/token-creator-kind.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import type { Target } from '../../shared/plan/targets.ts';
import { type GrantRequest, reconcileTarget, type TargetDriver } from '../../shared/reconcile/reconcile-target.ts';
import {
  type CapacitySettings,
  capacityRemedies,
  crossedThreshold,
  formatUsage,
  headroom,
  targetCapacities,
  type UsageSlot,
  usagePercent,
  warnCrossings,
} from '../../shared/report/capacity.ts';
import type { TargetResult, TargetUsage } from '../../shared/report/outcome.ts';

const chars = (used: number, limit = 2048): TargetUsage => ({ used, limit, unit: 'characters' });
const members = (used: number): TargetUsage => ({ used, limit: 1500, unit: 'members' });
const settings: CapacitySettings = { warnAtPercent: 80, useLiveQuota: false, wildcard: false };

describe('usagePercent and formatUsage', () => {
  it.each([
    [chars(0), 0, '0/2048 characters (0%)'],
    [chars(1024), 50, '1024/2048 characters (50%)'],
    [chars(1639), 80, '1639/2048 characters (80%)'],
    [chars(2047), 100, '2047/2048 characters (100%)'],
    [members(1), 0.1, '1/1500 members (0.1%)'],
    [{ used: 16, limit: 20, unit: 'credentials' } as const, 80, '16/20 credentials (80%)'],
  ])('%o is %d%%', (usage, percent, text) => {
    expect(usagePercent(usage)).toBe(percent);
    expect(formatUsage(usage)).toBe(text);
  });

  it('never divides by a zero limit', () => {
    expect(usagePercent(chars(5, 0))).toBeUndefined();
    expect(formatUsage(chars(5, 0))).toBe('5/0 characters');
  });
});

describe('crossedThreshold', () => {
  it.each([
    ['below to below', 1000, 1500, false],
    ['below to exactly the threshold', 1600, 1639, true],
    ['below to above', 1000, 1900, true],
    ['above to further above (said before)', 1700, 1900, false],
    ['above to below (a revoke)', 1900, 1000, false],
    ['unchanged above', 1900, 1900, false],
  ])('%s', (_name, before, after, crossed) => {
    expect(crossedThreshold(chars(before), chars(after), 80)).toBe(crossed);
  });
});

describe('headroom', () => {
  const subjects = ['system:serviceaccount:ns-a:ns-a-scheduler', 'system:serviceaccount:ns-a:ns-a-worker'];
  const cost = subjects.reduce((sum, s) => sum + JSON.stringify(s).length + 1, 0);
  it.each([
    ['room for exactly two', chars(2048 - 2 * cost), subjects, 2],
    ['one character short of two', chars(2048 - 2 * cost + 1), subjects, 1],
    ['full', chars(2048), subjects, 0],
    ['over (a quota lowered below the policy)', chars(3000), subjects, 0],
    ['members cost one each', members(1494), ['a', 'b', 'c'], 2],
    ['duplicates count once', members(1494), ['a', 'a', 'b', 'c'], 2],
    ['no shape, no figure', members(10), [], undefined],
  ])('%s', (_name, usage, entries, room) => {
    expect(headroom(usage, entries)).toBe(room);
  });
});

describe('capacityRemedies', () => {
  const kinds: Target['kind'][] = [
    'aws-role',
    'aws-role-principal',
    'gcp-service-account',
    'gcp-service-account-token-creator',
    'gcp-project',
    'azure-identity',
  ];
  it.each(kinds)('%s has remedies, each a sentence, prune last', (kind) => {
    const remedies = capacityRemedies(kind, settings);
    expect(remedies.length).toBeGreaterThanOrEqual(2);
    for (const remedy of remedies) expect(remedy).toMatch(/\.$/);
    expect(remedies.at(-1)).toContain('prune');
  });

  it('names the quota code and the config key on IAM roles, and the wildcard only where it helps', () => {
    expect(capacityRemedies('aws-role', settings).join(' ')).toMatch(/L-C07B4B0D.*aws\.trustPolicyMaxSize/);
    expect(capacityRemedies('aws-role', settings).join(' ')).toContain('wildcard.enabled: true');
    // A trusted principal is one ARN per Deployment: a namespace wildcard does not shorten it.
    expect(capacityRemedies('aws-role-principal', settings).join(' ')).not.toContain('wildcard');
    // Never a remedy the config already took.
    expect(capacityRemedies('aws-role', { ...settings, wildcard: true }).join(' ')).not.toContain('wildcard');
    expect(capacityRemedies('aws-role', { ...settings, useLiveQuota: true }).join(' ')).not.toContain(
      'trustPolicyMaxSize',
    );
  });
});

const role: Target = { kind: 'aws-role', cloud: 'aws', id: 'arn:aws:iam::1:role/r', roleArn: 'arn:aws:iam::1:role/r' };
const other: Target = { kind: 'aws-role', cloud: 'aws', id: 'arn:aws:iam::1:role/o', roleArn: 'arn:aws:iam::1:role/o' };
const granted = (added: string[], usage: TargetUsage, extra: Partial<TargetResult> = {}): TargetResult => ({
  cloud: 'aws',
  target: role.id,
  status: 'granted',
  added,
  removed: [],
  present: [],
  usage,
  ...extra,
});
const slot = (target: Target, result: TargetResult, before: TargetUsage | undefined): UsageSlot => ({
  target,
  result,
  before,
});

describe('warnCrossings', () => {
  it('warns on the first result of a target whose round crossed, once for the whole batch', () => {
    const [first, second] = warnCrossings(
      [[slot(role, granted(['a'], chars(1700)), chars(1500))], [slot(role, granted(['b'], chars(1700)), chars(1500))]],
      settings,
    );
    expect(first?.[0]?.capacityWarning).toMatchObject({ percent: 83, threshold: 80 });
    expect(second?.[0]?.capacityWarning).toBeUndefined();
  });

  it('sums a Deployment’s primary and DR parts on the target into one shape', () => {
    const [row] = warnCrossings(
      [
        [
          slot(role, granted(['p1', 'p2'], chars(1700)), chars(1000)),
          slot(role, granted(['d1', 'd2'], chars(1700), { dr: true }), chars(1000)),
        ],
      ],
      settings,
    );
    const cost = ['p1', 'p2', 'd1', 'd2'].reduce((sum, s) => sum + JSON.stringify(s).length + 1, 0);
    expect(row?.[0]?.capacityWarning?.headroom).toBe(Math.floor(348 / cost));
    expect(row?.[1]?.capacityWarning).toBeUndefined();
  });

  it.each([
    ['already above before the round', granted(['a'], chars(1900)), chars(1700)],
    ['nothing added', granted([], chars(1900)), chars(1500)],
    ['not a change (up to date)', { ...granted([], chars(1900)), status: 'unchanged' as const }, chars(1500)],
    ['a failure', { ...granted(['a'], chars(1900)), status: 'failed' as const }, chars(1500)],
    ['still below', granted(['a'], chars(1600)), chars(1500)],
    ['use unknown before', granted(['a'], chars(1900)), undefined],
  ])('says nothing when %s', (_name, result, before) => {
    expect(warnCrossings([[slot(role, result, before)]], settings)[0]?.[0]?.capacityWarning).toBeUndefined();
  });

  it('judges each target on its own', () => {
    const rows = warnCrossings(
      [[slot(role, granted(['a'], chars(1700)), chars(1500)), slot(other, granted(['a'], chars(1700)), chars(1500))]],
      settings,
    );
    expect(rows[0]?.map((r) => r.capacityWarning !== undefined)).toEqual([true, true]);
  });
});

describe('targetCapacities', () => {
  it('lists each target once with its fullest reading, fullest first; the IRSA and principal kinds share a role', () => {
    const list = targetCapacities([
      granted(['a'], chars(900)),
      granted(['b'], chars(1200), { kind: 'aws-role-principal' }),
      { ...granted(['c'], members(1400)), cloud: 'gcp', target: 'sa@p.iam.gserviceaccount.com' },
      { ...granted([], chars(10)), usage: undefined } as unknown as TargetResult,
    ]);
    expect(list.map((entry) => [entry.target, entry.usage.used])).toEqual([
      ['sa@p.iam.gserviceaccount.com', 1400],
      [role.id, 1200],
    ]);
  });
});

describe('each kind counts as its cloud does', () => {
  it('IAM roles: the minified document against the quota the document was read with', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    };
    const usage = { used: JSON.stringify(policy).length, limit: 4096, unit: 'characters' };
    expect(awsRoleTrustKind.usage({ policy, quota: 4096 })).toEqual(usage);
    expect(awsPrincipalTrustKind.usage({ policy, quota: 4096 })).toEqual(usage);
  });

  it('GCP policies: members over every binding, conditional ones included, against 1,500', () => {
    const policy = {
      bindings: [
        { role: 'roles/viewer', members: ['user:a@x.example', 'group:b@x.example'] },
        {
          role: 'roles/iam.workloadIdentityUser',
          members: ['user:c@x.example'],
          condition: { title: 't', expression: 'true' },
        },
      ],
    };
    const usage = { used: 3, limit: 1500, unit: 'members' };
    expect(gcpServiceAccountKind({ kind: 'service-account' }).usage(policy)).toEqual(usage);
    expect(gcpTokenCreatorKind(() => true).usage(policy)).toEqual(usage);
    expect(gcpProjectKind(() => true, []).usage(policy)).toEqual(usage);
    expect(gcpServiceAccountKind({ kind: 'service-account' }).usage({})).toEqual({ ...usage, used: 0 });
  });

  it('Azure identities: credentials against the configured limit', () => {
    const credential = { name: 'x', issuer: 'https://i', subject: 's', audiences: ['api://AzureADTokenExchange'] };
    expect(azureIdentityKind(20).usage([credential, { ...credential, name: 'y' }])).toEqual({
      used: 2,
      limit: 20,
      unit: 'credentials',
    });
  });
});

describe('reconcileTarget reports usage', () => {
  function driver(initial: string[], options: { failVerify?: boolean } = {}) {
    let stored = new Set(initial);
    let reads = 0;
    const target: TargetDriver<Set<string>> = {
      async read() {
        reads += 1;
        if (options.failVerify && reads > 1) throw new TargetError('the read timed out', { retryable: true });
        return new Set(stored);
      },
      plan(current, request) {
        const missing = request.grant.subjects.filter((s) => !current.has(s));
        return { changed: missing.length > 0, added: missing, present: [], next: new Set([...current, ...missing]) };
      },
      owned: () => new Set(),
      usage: (current) => ({ used: current.size, limit: 10, unit: 'members' }),
      async write(_current, next) {
        stored = new Set(next);
        return undefined;
      },
    };
    return target;
  }
  const request: GrantRequest = {
    key: 'a',
    issuer: undefined,
    grant: desiredGrant({ namespace: 'ns-a', selection: { components: ['scheduler', 'worker'] } }),
  };
  const quiet = { sleep: async () => undefined, random: () => 0.5 };

  it('before from the first read, after from the verify read', async () => {
    const outcome = (await reconcileTarget(driver(['x']), [request], quiet)).get('a');
    expect(outcome).toMatchObject({ status: 'granted', usageBefore: { used: 1 }, usage: { used: 3 } });
  });

  it('before on one outcome of the round only: the first request that added entries', async () => {
    const second: GrantRequest = {
      key: 'b',
      issuer: undefined,
      grant: desiredGrant({ namespace: 'ns-b', selection: { components: ['scheduler'] } }),
    };
    const present: GrantRequest = { ...request, key: 'p' };
    const target = driver([...request.grant.subjects]);
    const outcomes = await reconcileTarget(target, [present, second, { ...second, key: 'c' }], quiet);
    expect(
      ['p', 'b', 'c'].map((key) => [key, outcomes.get(key)?.usageBefore?.used, outcomes.get(key)?.usage?.used]),
    ).toEqual([
      ['p', undefined, 3],
      ['b', 2, 3],
      ['c', undefined, 3],
    ]);
  });

  it('a dry run: what the plan would leave', async () => {
    const outcome = (await reconcileTarget(driver([]), [request], { ...quiet, dryRun: true })).get('a');
    expect(outcome).toMatchObject({ status: 'planned', usageBefore: { used: 0 }, usage: { used: 2 } });
  });

  it('a converged target: the one read', async () => {
    const outcome = (await reconcileTarget(driver([...request.grant.subjects]), [request], quiet)).get('a');
    expect(outcome).toMatchObject({ status: 'unchanged', usage: { used: 2 } });
    // Nothing added: no crossing can be told on it.
    expect(outcome?.usageBefore).toBeUndefined();
  });

  it('no after figure once the verify read failed: what the target holds is not known', async () => {
    const failed = (await reconcileTarget(driver([], { failVerify: true }), [request], quiet)).get('a');
    expect(failed?.status).toBe('failed');
    expect(failed?.usage).toBeUndefined();
    expect(failed?.usageBefore).toEqual({ used: 0, limit: 10, unit: 'members' });
  });
});
