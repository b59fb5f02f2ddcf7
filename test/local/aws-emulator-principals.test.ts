import {
  CreateOpenIDConnectProviderCommand,
  DeleteRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  IAMClient,
  ListOpenIDConnectProvidersCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsEmulator, startAwsEmulator } from '../../local/aws-emulator/server.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const ISSUER = 'https://oidc.eks.eu-west-1.amazonaws.com/id/PRINCIPALS0000000000000000000000';
const PROVIDER = `arn:aws:iam::123456789012:oidc-provider/${ISSUER.slice('https://'.length)}`;
let emu: AwsEmulator;
let iam: IAMClient;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emu = await startAwsEmulator();
  iam = new IAMClient({ endpoint: emu.url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  iam.destroy();
  await emu.close();
});

const irsa = (provider: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Federated: provider }, Action: 'sts:AssumeRoleWithWebIdentity' }],
});
const trusting = (principal: string) => ({
  Version: '2012-10-17',
  Statement: [{ Sid: 'Person', Effect: 'Allow', Principal: { AWS: principal }, Action: 'sts:AssumeRole' }],
});
const update = (roleName: string, document: unknown) =>
  iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(document) }));
const trustOf = async (roleName: string) =>
  JSON.parse(
    decodeURIComponent(
      (await iam.send(new GetRoleCommand({ RoleName: roleName }))).Role?.AssumeRolePolicyDocument ?? '',
    ),
  );

describe('aws emulator: IAM OIDC identity providers', () => {
  it('answers NoSuchEntity for a missing provider, and IAM refuses a trust policy naming it', async () => {
    emu.putRole('irsa-role', trusting('arn:aws:iam::123456789012:root'));
    await expect(
      iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER })),
    ).rejects.toMatchObject({
      name: 'NoSuchEntityException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(update('irsa-role', irsa(PROVIDER))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: `Invalid principal in policy: "FEDERATED":"${PROVIDER}"`,
    });
  });

  it('creates a provider (no thumbprint needed), lists and reads it, refuses a second one for the URL', async () => {
    const created = await iam.send(
      new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: ['sts.amazonaws.com'] }),
    );
    expect(created.OpenIDConnectProviderArn).toBe(PROVIDER);
    const read = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: PROVIDER }));
    expect(read).toMatchObject({ Url: ISSUER.slice('https://'.length), ClientIDList: ['sts.amazonaws.com'] });
    const listed = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(listed.OpenIDConnectProviderList?.map((p) => p.Arn)).toContain(PROVIDER);
    await expect(
      iam.send(new CreateOpenIDConnectProviderCommand({ Url: ISSUER, ClientIDList: ['sts.amazonaws.com'] })),
    ).rejects.toMatchObject({ name: 'EntityAlreadyExistsException', $metadata: { httpStatusCode: 409 } });
    await update('irsa-role', irsa(PROVIDER));
    expect(await trustOf('irsa-role')).toEqual(irsa(PROVIDER));
  });

  it('answers AccessDenied for an action the caller may not perform', async () => {
    emu.denyActions(['CreateOpenIDConnectProvider']);
    try {
      await expect(
        iam.send(new CreateOpenIDConnectProviderCommand({ Url: 'https://denied.example.com', ClientIDList: ['x'] })),
      ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    } finally {
      emu.denyActions([]);
    }
  });
});

describe('aws emulator: Principal.AWS must exist, and a deleted role shows as its unique id', () => {
  it('refuses a role ARN that exists nowhere, accepts one of this account or a registered external one', async () => {
    emu.putRole('customer', trusting('arn:aws:iam::123456789012:root'));
    emu.putRole('other-local', trusting('arn:aws:iam::123456789012:root'));
    await expect(update('customer', trusting('arn:aws:iam::999999999999:role/astro-wi-x'))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
      message: 'Invalid principal in policy: "AWS":"arn:aws:iam::999999999999:role/astro-wi-x"',
    });
    emu.addExternalPrincipal('arn:aws:iam::999999999999:role/astro-wi-x');
    await update('customer', trusting('arn:aws:iam::999999999999:role/astro-wi-x'));
    await update('customer', trusting('arn:aws:iam::123456789012:role/other-local'));
    await expect(update('customer', trusting('arn:aws:iam::123456789012:role/missing'))).rejects.toMatchObject({
      name: 'MalformedPolicyDocumentException',
    });
  });

  it('DeleteRole replaces the role in every trusting policy by its AROA unique id', async () => {
    emu.putRole('trusting', trusting('arn:aws:iam::123456789012:root'));
    emu.putRole('doomed', trusting('arn:aws:iam::123456789012:root'));
    await update('trusting', trusting('arn:aws:iam::123456789012:role/doomed'));
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'doomed' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'doomed' }));
    const after = await trustOf('trusting');
    expect(after.Statement[0].Principal.AWS).toBe(Role?.RoleId);
    expect(Role?.RoleId).toMatch(/^AROA[A-Z2-7]{17}$/);
    // IAM shows the id but will not save a policy that still holds it.
    await expect(update('trusting', after)).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
    const external = emu.deleteRole('arn:aws:iam::999999999999:role/astro-wi-x');
    expect(external).toMatch(/^AROA/);
  });
});
