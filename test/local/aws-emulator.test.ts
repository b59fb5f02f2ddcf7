import {
  CreateRoleCommand,
  GetAccountSummaryCommand,
  GetRoleCommand,
  IAMClient,
  ListRolesCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsEmulator, startAwsEmulator } from '../../local/aws-emulator/server.ts';

const ISSUER = 'oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789';
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER}`;
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
// A syntactically complete SigV4 header for raw requests (the emulator never verifies signatures).
const DUMMY_AUTH =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc';

function trustPolicy(subjects: string[], sid = 'AstroIdentitySync'): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: sid,
        Effect: 'Allow',
        Principal: { Federated: PROVIDER },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${ISSUER}:aud`]: 'sts.amazonaws.com', [`${ISSUER}:sub`]: subjects } },
      },
    ],
  };
}

/** A trust policy whose whitespace-free length is exactly `size` (padding goes into the alphanumeric Sid). */
function policyOfSize(size: number): Record<string, unknown> {
  const base = JSON.stringify(trustPolicy(['system:serviceaccount:ns1:ns1-worker-serviceaccount'], '')).length;
  const policy = trustPolicy(['system:serviceaccount:ns1:ns1-worker-serviceaccount'], 'S'.repeat(size - base));
  expect(JSON.stringify(policy).length).toBe(size);
  return policy;
}

interface SeenError {
  name: string;
  code: string | undefined;
  status: number | undefined;
  attempts: number | undefined;
  fault: string | undefined;
  message: string;
}

async function failure(promise: Promise<unknown>): Promise<SeenError> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & {
      Code?: string;
      $fault?: string;
      $metadata?: { httpStatusCode?: number; attempts?: number };
    };
    return {
      name: e.name,
      code: e.Code,
      status: e.$metadata?.httpStatusCode,
      attempts: e.$metadata?.attempts,
      fault: e.$fault,
      message: e.message,
    };
  }
  throw new Error('expected the call to fail');
}

let emu: AwsEmulator;
let iam: IAMClient;
let roleArn: string;
const initial = trustPolicy(['system:serviceaccount:ns0:ns0-worker-serviceaccount']);

beforeAll(async () => {
  // SDK v3 warns once per process that Node 20 support ends in 2027; keep test output readable.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emu = await startAwsEmulator({ oidcProviders: [`https://${ISSUER}`] });
  iam = new IAMClient({ endpoint: emu.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
});

afterAll(async () => {
  iam.destroy();
  await emu.close();
});

beforeEach(() => {
  emu.setFaults({});
  emu.setTrustPolicyQuota(2048);
  roleArn = emu.putRole('astro-role', initial);
  emu.resetCalls();
});

async function update(document: unknown, client: IAMClient = iam): Promise<unknown> {
  const PolicyDocument = typeof document === 'string' ? document : JSON.stringify(document);
  return client.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'astro-role', PolicyDocument }));
}

describe('aws emulator: IAM roles', () => {
  it('GetRole returns the trust policy URL-encoded, like real IAM (the SDK does not decode it)', async () => {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'astro-role' }));
    expect(roleArn).toBe('arn:aws:iam::123456789012:role/astro-role');
    expect(Role?.Arn).toBe(roleArn);
    expect(Role?.Path).toBe('/');
    expect(Role?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    expect(Role?.MaxSessionDuration).toBe(3600);
    expect(Role?.CreateDate).toBeInstanceOf(Date);
    const encoded = Role?.AssumeRolePolicyDocument ?? '';
    expect(encoded.startsWith('%7B%22Version%22')).toBe(true);
    expect(JSON.parse(decodeURIComponent(encoded))).toEqual(initial);
  });

  it('putRole honours path and account, and role names are case-insensitive', async () => {
    const arn = emu.putRole('Team-Role', '{"Statement":[]}', { path: 'astro/prod', accountId: '210987654321' });
    expect(arn).toBe('arn:aws:iam::210987654321:role/astro/prod/Team-Role');
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'team-role' }));
    expect(Role).toMatchObject({ RoleName: 'Team-Role', Path: '/astro/prod/', Arn: arn });
  });

  it('UpdateAssumeRolePolicy stores the document verbatim and GetRole reads it back', async () => {
    const next = trustPolicy(['system:serviceaccount:ns1:ns1-worker-serviceaccount', 'system:serviceaccount:ns2:*']);
    const pretty = JSON.stringify(next, null, 2);
    await update(pretty);
    expect(emu.getTrustPolicyText('astro-role')).toBe(pretty);
    expect(emu.getTrustPolicy('astro-role')).toEqual(next);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'astro-role' }));
    expect(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '')).toBe(pretty);
  });

  it('answers NoSuchEntity (404) for unknown roles; the SDK names it NoSuchEntityException, Code NoSuchEntity', async () => {
    const read = await failure(iam.send(new GetRoleCommand({ RoleName: 'missing' })));
    expect(read).toMatchObject({ name: 'NoSuchEntityException', code: 'NoSuchEntity', status: 404, fault: 'client' });
    expect(read.message).toBe('The role with name missing cannot be found.');
    const write = await failure(
      iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'missing', PolicyDocument: JSON.stringify(initial) })),
    );
    expect(write).toMatchObject({ name: 'NoSuchEntityException', status: 404 });
  });

  it('answers MalformedPolicyDocument (400) for invalid JSON and a non-alphanumeric Sid', async () => {
    const badJson = await failure(update('{"Version":"2012-10-17","Statement":['));
    expect(badJson).toMatchObject({ name: 'MalformedPolicyDocumentException', code: 'MalformedPolicyDocument' });
    expect(badJson).toMatchObject({ status: 400, message: 'This policy contains invalid Json' });
    const badSid = await failure(update(trustPolicy(['system:serviceaccount:ns1:*'], 'astro-ns1')));
    expect(badSid.name).toBe('MalformedPolicyDocumentException');
    expect(badSid.message).toMatch(/Statement IDs \(SID\) must be alpha-numeric/);
    expect(emu.getTrustPolicy('astro-role')).toEqual(initial);
  });

  const statement = trustPolicy(['system:serviceaccount:ns1:*']).Statement as Array<Record<string, unknown>>;
  const [valid] = statement;
  it.each([
    ['no Statement', { Version: '2012-10-17' }, /Missing required field Statement/],
    ['a Statement that is not an object', { Version: '2012-10-17', Statement: ['x'] }, /not an object/],
    ['Effect not Allow/Deny', { Statement: [{ ...valid, Effect: 'Permit' }] }, /Invalid effect: Permit/],
    ['no Principal', { Statement: [{ ...valid, Principal: undefined }] }, /Missing required field Principal/],
    ['no Action', { Statement: [{ ...valid, Action: undefined }] }, /Missing required field Action/],
    ['a Resource', { Statement: [{ ...valid, Resource: '*' }] }, /Has prohibited field Resource/],
    ['duplicate Sids', { Statement: [valid, valid] }, /must be unique/],
    ['an unknown version', { Version: '2020-01-01', Statement: [valid] }, /legacy parsing/],
  ])('rejects a policy with %s as MalformedPolicyDocument', async (_label, policy, message) => {
    const error = await failure(update(policy));
    expect(error).toMatchObject({ name: 'MalformedPolicyDocumentException', status: 400 });
    expect(error.message).toMatch(message);
  });

  it('answers LimitExceeded (409) exactly at quota + 1; whitespace is not counted', async () => {
    await update(policyOfSize(2048));
    expect(JSON.stringify(emu.getTrustPolicy('astro-role')).length).toBe(2048);
    const pretty = JSON.stringify(policyOfSize(2048), null, 4);
    expect(pretty.length).toBeGreaterThan(2300);
    await update(pretty);
    expect(emu.getTrustPolicyText('astro-role')).toBe(pretty);
    const over = await failure(update(policyOfSize(2049)));
    expect(over).toMatchObject({ name: 'LimitExceededException', code: 'LimitExceeded', status: 409 });
    expect(over.message).toBe('Cannot exceed quota for ACLSizePerRole: 2048');
    expect(emu.getTrustPolicyText('astro-role')).toBe(pretty);
  });

  it('GetAccountSummary reports the quota as AssumeRolePolicySizeQuota; raising it admits larger documents', async () => {
    const before = await iam.send(new GetAccountSummaryCommand({}));
    expect(before.SummaryMap).toMatchObject({ AssumeRolePolicySizeQuota: 2048, RolesQuota: 1000 });
    expect(before.SummaryMap?.Roles).toBeGreaterThanOrEqual(1);
    emu.setTrustPolicyQuota(4096);
    const after = await iam.send(new GetAccountSummaryCommand({}));
    expect(after.SummaryMap?.AssumeRolePolicySizeQuota).toBe(4096);
    await update(policyOfSize(4096));
    expect((await failure(update(policyOfSize(4097)))).message).toBe('Cannot exceed quota for ACLSizePerRole: 4096');
  });

  it('CreateRole creates roles and refuses duplicates with EntityAlreadyExists (409)', async () => {
    const doc = JSON.stringify(trustPolicy(['system:serviceaccount:ns9:*']));
    const created = await iam.send(
      new CreateRoleCommand({ RoleName: 'new-role', AssumeRolePolicyDocument: doc, Path: '/astro/' }),
    );
    expect(created.Role?.Arn).toBe('arn:aws:iam::123456789012:role/astro/new-role');
    expect(decodeURIComponent(created.Role?.AssumeRolePolicyDocument ?? '')).toBe(doc);
    const again = await failure(
      iam.send(new CreateRoleCommand({ RoleName: 'NEW-ROLE', AssumeRolePolicyDocument: doc })),
    );
    expect(again).toMatchObject({ name: 'EntityAlreadyExistsException', status: 409 });
  });

  it('answers ValidationError for invalid role names and InvalidAction for unsupported actions', async () => {
    const invalid = await failure(iam.send(new GetRoleCommand({ RoleName: 'bad name!' })));
    expect(invalid).toMatchObject({ name: 'ValidationError', status: 400 });
    const unknown = await failure(iam.send(new ListRolesCommand({})));
    expect(unknown).toMatchObject({ name: 'InvalidAction', status: 400 });
    expect(unknown.message).toBe('Could not find operation ListRoles for version 2010-05-08');
  });
});

describe('aws emulator: SDK retry behaviour for LimitExceeded', () => {
  // Finding: SDK v3 (3.1169) lists "LimitExceededException" among THROTTLING_ERROR_CODES, and IAM's modeled
  // LimitExceeded error carries exactly that name, so the default standard retry DOES retry a 409 quota error
  // (3 attempts, ~1-3 s of throttling backoff) although retrying can never succeed.
  it('the default client (maxAttempts 3) sends an over-quota write three times', async () => {
    const client = new IAMClient({ endpoint: emu.url, region: 'us-east-1', credentials: CREDENTIALS });
    const error = await failure(update(policyOfSize(2049), client));
    expect(error).toMatchObject({ name: 'LimitExceededException', attempts: 3 });
    expect(emu.count('UpdateAssumeRolePolicy')).toBe(3);
    client.destroy();
  });

  it('a retry strategy that refuses LimitExceededException sends it once', async () => {
    const base = await new IAMClient({ region: 'us-east-1' }).config.retryStrategy();
    if (!('refreshRetryTokenForRetry' in base)) throw new Error('expected a RetryStrategyV2');
    const retryStrategy = {
      acquireInitialRetryToken: (scope) => base.acquireInitialRetryToken(scope),
      refreshRetryTokenForRetry: (token, info) =>
        info.error?.name === 'LimitExceededException'
          ? Promise.reject(info.error)
          : base.refreshRetryTokenForRetry(token, info),
      recordSuccess: (token) => base.recordSuccess(token),
    } satisfies typeof base;
    const client = new IAMClient({ endpoint: emu.url, region: 'us-east-1', credentials: CREDENTIALS, retryStrategy });
    const error = await failure(update(policyOfSize(2049), client));
    expect(error).toMatchObject({ name: 'LimitExceededException', attempts: 1 });
    expect(emu.count('UpdateAssumeRolePolicy')).toBe(1);
    client.destroy();
  });
});

describe('aws emulator: authentication, STS and the call log', () => {
  it('rejects requests without SigV4 Authorization (403 MissingAuthenticationToken) or with a broken one', async () => {
    const body = 'Action=GetRole&Version=2010-05-08&RoleName=astro-role';
    const headers = { 'content-type': 'application/x-www-form-urlencoded' };
    const missing = await fetch(emu.url, { method: 'POST', headers, body });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    const broken = await fetch(emu.url, { method: 'POST', headers: { ...headers, authorization: 'Bearer x' }, body });
    expect(broken.status).toBe(400);
    expect(await broken.text()).toContain('<Code>IncompleteSignature</Code>');
    const events = await fetch(emu.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSEvents.PutEvents' },
      body: '{"Entries":[]}',
    });
    expect(events.status).toBe(403);
    expect(await events.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
    expect(emu.calls.map((c) => [c.service, c.action, c.status])).toEqual([
      ['iam', 'GetRole', 403],
      ['iam', 'GetRole', 400],
      ['events', 'PutEvents', 403],
    ]);
  });

  it('STS GetCallerIdentity answers account 123456789012 in the STS namespace', async () => {
    const response = await fetch(emu.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: DUMMY_AUTH.replace('/iam/', '/sts/'),
      },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    const xml = await response.text();
    expect(response.status).toBe(200);
    expect(xml).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(xml).toContain('<Account>123456789012</Account>');
    expect(emu.calls.at(-1)).toMatchObject({ service: 'sts', action: 'GetCallerIdentity', status: 200 });
  });

  it('logs every call with service, action, status and params; count() and resetCalls() work', async () => {
    const started = Date.now();
    await iam.send(new GetRoleCommand({ RoleName: 'astro-role' }));
    await failure(iam.send(new GetRoleCommand({ RoleName: 'nope' })));
    await update(initial);
    expect(emu.calls).toHaveLength(3);
    expect(emu.calls[0]).toMatchObject({
      service: 'iam',
      action: 'GetRole',
      status: 200,
      params: { RoleName: 'astro-role' },
    });
    expect(emu.calls[1]).toMatchObject({ action: 'GetRole', status: 404 });
    expect(emu.calls[2]?.params).toEqual({ RoleName: 'astro-role', PolicyDocument: JSON.stringify(initial) });
    expect(emu.calls.every((c) => c.at >= started && c.at <= Date.now())).toBe(true);
    expect(emu.count('GetRole')).toBe(2);
    expect(emu.count('UpdateAssumeRolePolicy')).toBe(1);
    emu.resetCalls();
    expect(emu.calls).toHaveLength(0);
    expect(emu.count('GetRole')).toBe(0);
  });
});
