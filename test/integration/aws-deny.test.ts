import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsStack, defaultLocalConfig, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, ISSUER_AWS } from '../support/deployments.ts';

/**
 * What the tool reports granted is what IAM decides: an explicit Deny in the role's trust policy blocks the subjects
 * it covers (reported with its Sid, never written), and a managed statement a person edited is not extended. Real
 * manual handler, real IAM client, over HTTP against the IAM emulator.
 */

const HP = ISSUER_AWS.replace('https://', '');
const PROVIDER = `arn:aws:iam::${LOCAL_ACCOUNT}:oidc-provider/${HP}`;
const NS = 'nebular-gravity-1234';
const WORKER_SA = `${NS}-worker-serviceaccount`;
const ASTRO_WI = 'arn:aws:iam::999999999999:role/astro-wi-nebular-gravity-1234';
const NO_WORKERS = {
  Sid: 'NoWorkers',
  Effect: 'Deny',
  Principal: { Federated: PROVIDER },
  Action: 'sts:AssumeRoleWithWebIdentity',
  Condition: { StringLike: { [`${HP}:sub`]: 'system:serviceaccount:*:*-worker-serviceaccount' } },
};
type Statement = Record<string, unknown> & { Sid?: string };
type Result = Record<string, unknown> & { added: string[]; blocked?: string[]; notes?: string[] };

let stack: AwsStack;
beforeAll(async () => {
  stack = await startAwsStack({
    config: `${defaultLocalConfig().replace(/aws:\n.*\n/, '')}aws:
  allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"]
  allowedWorkloadIdentityPrincipals: ["arn:aws:iam::999999999999:role/astro-wi-*"]
targets:
  - match: { names: ["shared-*"] }
    aws: { roleArn: "arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-shared", trust: workload-identity }
`,
  });
  stack.aws.addExternalPrincipal(ASTRO_WI);
});
afterAll(() => stack.close());
beforeEach(() => stack.slack.reset());

async function manual(deployment: Record<string, unknown>) {
  const response = await fetch(stack.manualUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deployment }),
  });
  return { status: response.status, results: ((await response.json()) as { results: Result[] }).results };
}
const statementsOf = (role: string) => (stack.aws.getTrustPolicy(role) as { Statement: Statement[] }).Statement;
const withTrust = (role: string, ...statements: Statement[]) => {
  stack.aws.putRole(role, { Version: '2012-10-17', Statement: [...EC2_TRUST.Statement, ...statements] });
  stack.aws.resetCalls();
};

describe('AWS: an explicit Deny in the trust policy (IRSA)', () => {
  it('blocks the worker: reported by Sid, the other subjects written once, then one read and zero writes', async () => {
    withTrust('astro-data', NO_WORKERS);
    const first = await manual(apiDeployment());
    expect(first.status).toBe(422);
    expect(first.results).toEqual([
      expect.objectContaining({ status: 'blocked', blocked: [`system:serviceaccount:${NS}:${WORKER_SA}`] }),
    ]);
    expect(first.results[0]?.added).toHaveLength(5);
    expect(first.results[0]?.reason).toContain('denied by NoWorkers');
    expect(JSON.stringify(statementsOf('astro-data').slice(2))).not.toContain(WORKER_SA);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(1);
    expect(JSON.stringify(stack.slack.messages)).toContain('NoWorkers');

    stack.aws.resetCalls();
    const again = await manual(apiDeployment());
    expect(again.results).toEqual([expect.objectContaining({ status: 'blocked', added: [] })]);
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['GetRole']);
  });

  it('a Deny on the whole issuer blocks every subject and writes nothing', async () => {
    const { Condition: _none, ...denyIssuer } = NO_WORKERS;
    withTrust('astro-data', { ...denyIssuer, Sid: 'NoEks' });
    const answer = await manual(apiDeployment());
    expect(answer.results).toEqual([expect.objectContaining({ status: 'blocked', added: [] })]);
    expect(answer.results[0]?.blocked).toHaveLength(6);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('a Deny it cannot evaluate (aws:SourceIp) is reported as doubtful, not granted', async () => {
    withTrust('astro-data', {
      ...NO_WORKERS,
      Sid: 'OnlyVpn',
      Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
    });
    const answer = await manual(apiDeployment());
    expect(answer.results[0]).toMatchObject({ status: 'blocked', added: [] });
    expect(answer.results[0]?.reason).toContain('OnlyVpn may deny it');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });
});

describe('AWS: an edited managed statement (IRSA)', () => {
  it('is not extended: a new Deployment gets a canonical statement, the edit is reported, then no writes', async () => {
    withTrust('astro-data');
    await manual(apiDeployment());
    const ours = statementsOf('astro-data')[1] as Statement & { Condition: { StringEquals: Record<string, unknown> } };
    // A person removes the aud condition: any audience of this issuer would pass.
    const { [`${HP}:aud`]: _aud, ...subOnly } = ours.Condition.StringEquals;
    const edited = { ...ours, Condition: { StringEquals: subOnly } };
    withTrust('astro-data', edited);

    const other = apiDeployment({ id: 'clq2other000000000000000b', name: 'etl-other', namespace: 'cosmic-lens-5678' });
    const granted = await manual(other);
    expect(granted.results[0]).toMatchObject({ status: 'granted' });
    expect(granted.results[0]?.notes).toEqual([expect.stringContaining(`${ours.Sid} was edited by hand`)]);
    const [, kept, fresh] = statementsOf('astro-data');
    expect(kept).toEqual(edited);
    expect(fresh?.Condition).toEqual({
      StringEquals: { [`${HP}:aud`]: 'sts.amazonaws.com', [`${HP}:sub`]: expect.any(Array) },
    });
    expect(JSON.stringify(fresh)).not.toContain(NS);

    stack.aws.resetCalls();
    for (const deployment of [apiDeployment(), other]) {
      const again = await manual(deployment);
      expect(again.results[0]).toMatchObject({ status: 'unchanged' });
      expect(again.results[0]?.notes).toEqual([expect.stringContaining('edited by hand')]);
    }
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });
});

describe('AWS: Principal.AWS trust', () => {
  const shared = (deployment: Record<string, unknown> = {}) =>
    apiDeployment({ name: 'shared-etl', effectiveWorkloadIdentity: ASTRO_WI, ...deployment });

  it('a Deny on sts:AssumeRole for the principal blocks it with zero writes', async () => {
    withTrust('astro-shared', { Sid: 'NoAstro', Effect: 'Deny', Principal: { AWS: ASTRO_WI }, Action: 'sts:*' });
    const answer = await manual(shared());
    expect(answer.results).toEqual([
      expect.objectContaining({ kind: 'aws-role-principal', status: 'blocked', blocked: [ASTRO_WI] }),
    ]);
    expect(answer.results[0]?.reason).toContain('denied by NoAstro');
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('an edited principals statement is not extended and is reported', async () => {
    const edited = {
      Sid: 'AstroIdentitySyncPrincipals',
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::999999999999:role/astro-wi-other'] },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'abc' } },
    };
    stack.aws.addExternalPrincipal('arn:aws:iam::999999999999:role/astro-wi-other');
    withTrust('astro-shared', edited);
    const answer = await manual(shared());
    expect(answer.results[0]).toMatchObject({ status: 'granted', added: [ASTRO_WI] });
    expect(answer.results[0]?.notes).toEqual([expect.stringContaining('edited by hand')]);
    expect(statementsOf('astro-shared')[1]).toEqual(edited);
    stack.aws.resetCalls();
    expect((await manual(shared())).results[0]).toMatchObject({ status: 'unchanged' });
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['GetRole']);
  });
});
