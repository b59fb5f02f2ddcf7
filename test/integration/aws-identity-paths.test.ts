import { afterEach, describe, expect, it } from 'vitest';
import { type AwsStack, defaultLocalConfig, LOCAL_ACCOUNT, startAwsStack } from '../../local/aws-stack.ts';
import { EC2_TRUST } from '../support/aws-fixtures.ts';
import { apiDeployment, ISSUER_AWS } from '../support/deployments.ts';
import { runScheduled } from '../support/scheduled.ts';

const ASTRO_ACCOUNT = '999999999999';
const ASTRO_WI = `arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-nebular-gravity-1234`;
const SHARED = `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-shared-s3`;
const principals = (allowed = `"arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-*"`) => `aws:
  allowedRoles: ["arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-*"]
  allowedWorkloadIdentityPrincipals: [${allowed}]
targets:
  - match: { names: ["etl-*"] }
    aws: { roleArn: "${SHARED}", trust: workload-identity }
`;
const PERSON = { Sid: 'Person', Effect: 'Allow', Principal: { AWS: ASTRO_WI }, Action: 'sts:AssumeRole' };

let stack: AwsStack;
afterEach(() => stack?.close());

const sweep = () => runScheduled(stack, 'sweep');

async function manual(body: unknown) {
  const response = await fetch(stack.manualUrl, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.manualToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as { results?: Array<Record<string, unknown>> } };
}
const updates = () => stack.aws.calls.filter((c) => c.action === 'UpdateAssumeRolePolicy' && c.status === 200).length;
type Statement = { Sid?: string; Principal?: { AWS?: string | string[] } };
const statementsOf = (role: string) => (stack.aws.getTrustPolicy(role) as { Statement: Statement[] }).Statement;
const ours = (role: string) => statementsOf(role).find((s) => s.Sid?.startsWith('AstroIdentitySyncPrincipals'));
const managed = (deployment: Record<string, unknown>) =>
  apiDeployment({ effectiveWorkloadIdentity: ASTRO_WI, ...deployment });

describe('AWS: an Astro-managed identity trusted as Principal.AWS (real handler, real IAM client)', () => {
  async function start(extra = '', allowed?: string) {
    stack = await startAwsStack({
      config: `${defaultLocalConfig().replace(/aws:\n.*\n/, '')}${principals(allowed)}${extra}`,
    });
    stack.aws.putRole('astro-shared-s3', EC2_TRUST);
    stack.aws.addExternalPrincipal(ASTRO_WI);
    stack.aws.resetCalls();
  }

  it('adds the principal in one managed statement, then costs one read and no write', async () => {
    await start();
    const first = await manual({ deployment: managed({}) });
    expect(first.json.results).toEqual([
      expect.objectContaining({ kind: 'aws-role-principal', status: 'granted', added: [ASTRO_WI] }),
    ]);
    expect(ours('astro-shared-s3')).toEqual({
      Sid: 'AstroIdentitySyncPrincipals',
      Effect: 'Allow',
      Principal: { AWS: [ASTRO_WI] },
      Action: 'sts:AssumeRole',
    });
    expect(statementsOf('astro-shared-s3')[0]).toEqual(EC2_TRUST.Statement[0]);
    stack.aws.resetCalls();
    const again = await manual({ deployment: managed({}) });
    expect(again.json.results).toEqual([expect.objectContaining({ status: 'unchanged' })]);
    expect(stack.aws.calls.map((c) => c.action)).toEqual(['GetRole']);
  });

  it('adds nothing when a person already trusts the principal, and keeps their statement', async () => {
    await start();
    stack.aws.putRole('astro-shared-s3', { Version: '2012-10-17', Statement: [PERSON] });
    const answer = await manual({ deployment: managed({}) });
    expect(answer.json.results).toEqual([expect.objectContaining({ status: 'unchanged', present: [ASTRO_WI] })]);
    expect(statementsOf('astro-shared-s3')).toEqual([PERSON]);
    expect(updates()).toBe(0);
  });

  it.each([
    ['a principal outside the allowlist (a signed payload cannot pick one)', 'arn:aws:iam::666666666666:role/attacker'],
    ['a principal of the role’s own account (self-trust)', `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-wi-self`],
  ])('refuses %s with zero writes', async (_name, principal) => {
    // Both accounts allowlisted, so self-trust is refused by its own rule, not by the allowlist.
    await start('', `"arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-*", "arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-wi-*"`);
    const answer = await manual({ deployment: managed({ effectiveWorkloadIdentity: principal }) });
    expect(answer.json.results?.every((r) => r.status === 'denied')).toBe(true);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('a principal IAM does not know is refused by IAM and reported, and the role stays as it was', async () => {
    await start();
    const ghost = `arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-ghost`;
    const answer = await manual({ deployment: managed({ effectiveWorkloadIdentity: ghost }) });
    expect(answer.json.results).toEqual([
      expect.objectContaining({
        status: 'failed',
        retryable: false,
        reason: expect.stringMatching(new RegExp(`principal ${ghost} does not exist`)),
      }),
    ]);
    expect(stack.aws.getTrustPolicy('astro-shared-s3')).toEqual(EC2_TRUST);
  });

  it('a deleted trusted role shows as its unique id: prune removes it from our statement only', async () => {
    await start(`astro: { token: "env:ASTRO_API_TOKEN", organizationId: clorg0000000000000000000 }\nprune: true\n`);
    const other = `arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-other`;
    stack.aws.addExternalPrincipal(other);
    const live = managed({ id: 'clq2live0000000000000000b', name: 'etl-live', effectiveWorkloadIdentity: other });
    stack.astro.upsert(live);
    await manual({ deploymentId: live.id });
    // A person trusts the live identity in a statement of their own; ours trusts both; then Astro deletes ASTRO_WI.
    const person = { ...PERSON, Principal: { AWS: other } };
    stack.aws.putRole('astro-shared-s3', {
      Version: '2012-10-17',
      Statement: [person, { ...ours('astro-shared-s3'), Principal: { AWS: [ASTRO_WI, other].sort() } }],
    });
    const uniqueId = stack.aws.deleteRole(ASTRO_WI);
    expect(uniqueId).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(JSON.stringify(statementsOf('astro-shared-s3'))).not.toContain(ASTRO_WI);
    await sweep();
    expect(statementsOf('astro-shared-s3')[0]).toEqual(person);
    expect(ours('astro-shared-s3')?.Principal?.AWS).toEqual([other]);
    expect(JSON.stringify(stack.slack.messages)).toContain('is a deleted role');
  });

  it('a deleted role left in a person’s statement blocks every write: the report names the id to remove', async () => {
    await start();
    stack.aws.putRole('astro-shared-s3', { Version: '2012-10-17', Statement: [PERSON] });
    const uniqueId = stack.aws.deleteRole(ASTRO_WI);
    const live = `arn:aws:iam::${ASTRO_ACCOUNT}:role/astro-wi-live`;
    stack.aws.addExternalPrincipal(live);
    const before = stack.aws.getTrustPolicyText('astro-shared-s3');
    const answer = await manual({ deployment: managed({ effectiveWorkloadIdentity: live }) });
    expect(answer.json.results).toEqual([
      expect.objectContaining({
        status: 'failed',
        retryable: false,
        reason: expect.stringContaining(
          `${uniqueId} is a deleted role's unique id in a statement this tool does not own`,
        ),
      }),
    ]);
    expect(stack.aws.getTrustPolicyText('astro-shared-s3')).toBe(before);
  });
});

describe('AWS: the IAM OIDC provider of the Deployment’s cluster', () => {
  it('reports a missing provider with the exact command, and writes nothing', async () => {
    stack = await startAwsStack({ oidcProviders: [] });
    stack.aws.putRole('astro-data', EC2_TRUST);
    const answer = await manual({ deployment: apiDeployment() });
    expect(answer.json.results).toEqual([
      expect.objectContaining({
        status: 'failed',
        retryable: false,
        reason: expect.stringMatching(
          /^missing OIDC provider: .* no IAM OIDC identity provider for https:\/\/oidc\.eks/,
        ),
        remedies: [
          `aws iam create-open-id-connect-provider --url ${ISSUER_AWS} --client-id-list sts.amazonaws.com`,
          'Or set aws.createOidcProviders: true to let this tool create it.',
        ],
      }),
    ]);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
    expect(stack.aws.getTrustPolicy('astro-data')).toEqual(EC2_TRUST);
  });

  it('a dry run checks the provider too: missing is failed, not planned; with create on it says it would create', async () => {
    stack = await startAwsStack({ oidcProviders: [] });
    stack.aws.putRole('astro-data', EC2_TRUST);
    const missing = await manual({ deployment: apiDeployment(), dryRun: true });
    expect(missing.json.results).toEqual([
      expect.objectContaining({ status: 'failed', reason: expect.stringMatching(/^missing OIDC provider: /) }),
    ]);
    await stack.close();
    stack = await startAwsStack({
      oidcProviders: [],
      config: defaultLocalConfig().replace('aws:\n', 'aws:\n  createOidcProviders: true\n'),
    });
    stack.aws.putRole('astro-data', EC2_TRUST);
    const planned = await manual({ deployment: apiDeployment(), dryRun: true });
    expect(planned.json.results).toEqual([
      expect.objectContaining({
        status: 'planned',
        notes: [expect.stringMatching(/^would create the IAM OIDC provider arn:aws:iam::\d{12}:oidc-provider\//)],
      }),
    ]);
    // Nothing was created or written: a dry run only reads.
    expect(stack.aws.oidcProviders()).toEqual([]);
    expect(stack.aws.count('CreateOpenIDConnectProvider') + stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('with aws.createOidcProviders creates it, grants, says so, and then needs neither again', async () => {
    stack = await startAwsStack({
      oidcProviders: [],
      config: defaultLocalConfig().replace('aws:\n', 'aws:\n  createOidcProviders: true\n'),
    });
    stack.aws.putRole('astro-data', EC2_TRUST);
    const answer = await manual({ deployment: apiDeployment() });
    const provider = `arn:aws:iam::${LOCAL_ACCOUNT}:oidc-provider/${ISSUER_AWS.replace('https://', '')}`;
    expect(answer.json.results).toEqual([
      expect.objectContaining({
        status: 'granted',
        notes: [expect.stringContaining(`created the IAM OIDC provider ${provider}`)],
      }),
    ]);
    expect(stack.aws.oidcProviders()).toEqual([provider]);
    const create = stack.aws.calls.find((c) => c.action === 'CreateOpenIDConnectProvider');
    expect(create?.params).toMatchObject({ Url: ISSUER_AWS, 'ClientIDList.member.1': 'sts.amazonaws.com' });
    stack.aws.resetCalls();
    const next = await manual({ deployment: apiDeployment({ namespace: 'second-ns-0001' }) });
    expect(next.json.results).toEqual([expect.objectContaining({ status: 'granted' })]);
    expect(stack.aws.count('GetOpenIDConnectProvider') + stack.aws.count('CreateOpenIDConnectProvider')).toBe(0);
  });

  it('a provider deleted after this cold start saw it is looked up again after IAM refuses it, and re-created', async () => {
    stack = await startAwsStack({
      oidcProviders: [],
      config: defaultLocalConfig().replace('aws:\n', 'aws:\n  createOidcProviders: true\n'),
    });
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.putRole('astro-etl', EC2_TRUST);
    const provider = `arn:aws:iam::${LOCAL_ACCOUNT}:oidc-provider/${ISSUER_AWS.replace('https://', '')}`;
    expect((await manual({ deployment: apiDeployment() })).json.results).toEqual([
      expect.objectContaining({ status: 'granted' }),
    ]);
    stack.aws.deleteOidcProvider(provider);
    const etl = {
      namespace: 'second-ns-0001',
      effectiveWorkloadIdentity: `arn:aws:iam::${LOCAL_ACCOUNT}:role/astro-etl`,
    };
    // The function remembers the provider, so IAM is the one to refuse; that answer clears the memory.
    const refused = await manual({ deployment: apiDeployment(etl) });
    expect(refused.json.results).toEqual([expect.objectContaining({ status: 'failed', retryable: false })]);
    const again = await manual({ deployment: apiDeployment(etl) });
    expect(again.json.results).toEqual([
      expect.objectContaining({ status: 'granted', notes: [expect.stringContaining('created the IAM OIDC provider')] }),
    ]);
    expect(stack.aws.oidcProviders()).toEqual([provider]);
  });

  it('a function that may not create providers says which permission it lacks, and writes nothing', async () => {
    stack = await startAwsStack({
      oidcProviders: [],
      config: defaultLocalConfig().replace('aws:\n', 'aws:\n  createOidcProviders: true\n'),
    });
    stack.aws.putRole('astro-data', EC2_TRUST);
    stack.aws.denyActions(['CreateOpenIDConnectProvider']);
    const answer = await manual({ deployment: apiDeployment() });
    expect(answer.json.results).toEqual([
      expect.objectContaining({
        status: 'failed',
        reason: expect.stringContaining('may not call iam:CreateOpenIDConnectProvider'),
      }),
    ]);
    expect(stack.aws.count('UpdateAssumeRolePolicy')).toBe(0);
  });

  it('IAM itself refuses a trust policy naming a missing provider (the check is not only ours)', async () => {
    stack = await startAwsStack({ oidcProviders: [] });
    stack.aws.putRole('astro-data', EC2_TRUST);
    const federated = `arn:aws:iam::${LOCAL_ACCOUNT}:oidc-provider/oidc.example.com/id/X`;
    const response = await fetch(`${stack.aws.url}/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization:
          'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: new URLSearchParams({
        Action: 'UpdateAssumeRolePolicy',
        Version: '2010-05-08',
        RoleName: 'astro-data',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Federated: federated }, Action: 'sts:AssumeRoleWithWebIdentity' },
          ],
        }),
      }).toString(),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain(
      `Invalid principal in policy: &quot;FEDERATED&quot;:&quot;${federated}&quot;`,
    );
  });
});
