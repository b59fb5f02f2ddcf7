import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { federatedCredentialsIo } from '../../functions/azure/federated-credentials-io.ts';
import { toMsiError } from '../../functions/azure/msi-errors.ts';
import {
  type AzureStack,
  LOCAL_AKS_ISSUER,
  LOCAL_RESOURCE_GROUP,
  LOCAL_SUBSCRIPTION,
  startAzureStack,
} from '../../local/azure-stack.ts';
import { DoesNotFitError, NameConflictError, TargetError, WriteConflictError } from '../../shared/errors.ts';
import { azureIdentityKind } from '../../shared/plan/azure/identity-kind.ts';
import { desiredGrant } from '../../shared/plan/subjects.ts';
import { driverFor } from '../../shared/reconcile/target-kind.ts';
import { credentials, subjectOf, targetId } from '../support/azure-fixtures.ts';

const NS = 'stellar-orbit-9012';

/**
 * The driver against the emulator with the real client, for races a whole event cannot stage: another writer acting
 * between the driver's read and its writes.
 */
describe('Azure federated credentials driver: writers racing between read and write', () => {
  let stack: AzureStack;
  let identity: string;
  let count = 0;
  const seed = (name: string, subject: string) =>
    stack.azure.putCredential(LOCAL_SUBSCRIPTION, LOCAL_RESOURCE_GROUP, identity, {
      name,
      issuer: LOCAL_AKS_ISSUER,
      subject,
    });

  async function driverAndPlan() {
    const runtime = await stack.instance.deps.runtime();
    const target = {
      kind: 'azure-identity' as const,
      cloud: 'azure' as const,
      id: targetId(identity),
      subscriptionId: LOCAL_SUBSCRIPTION,
      resourceGroup: LOCAL_RESOURCE_GROUP,
      identityName: identity,
    };
    const io = federatedCredentialsIo(runtime.clients.msi(LOCAL_SUBSCRIPTION), target);
    const driver = driverFor(azureIdentityKind(20), io, target);
    const current = await driver.read();
    const grant = desiredGrant({ namespace: NS, selection: { components: ['scheduler', 'worker', 'kpo'] } });
    const plan = driver.plan(current, { key: 'k', grant, issuer: LOCAL_AKS_ISSUER });
    return { driver, current, plan };
  }

  beforeAll(async () => {
    stack = await startAzureStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    count += 1;
    identity = `astro-driver-${count}`;
    stack.seedIdentity(identity);
    stack.azure.resetCalls();
  });

  it('rolls back what it created when another writer took the last slots, so the Deployment is all or nothing', async () => {
    for (let i = 0; i < 17; i++) seed(`other-${i}`, `system:serviceaccount:other-ns:sa-${i}`);
    const { driver, current, plan } = await driverAndPlan();
    // 17 + 3 planned = 20; another instance takes one slot between our read and our writes.
    seed('raced-in', 'system:serviceaccount:raced-ns:sa');
    await expect(driver.write(current, plan.next)).rejects.toBeInstanceOf(WriteConflictError);
    const names = credentials(stack, identity).map((c) => c.name);
    expect(names).toHaveLength(18);
    expect(names.filter((n) => n.startsWith(NS))).toEqual([]);
    // The re-plan (what reconcileTarget does next) reports it as not fitting, and writes nothing.
    const again = await driver.read();
    const grant = desiredGrant({ namespace: NS, selection: { components: ['scheduler', 'worker', 'kpo'] } });
    expect(() => driver.plan(again, { key: 'k', grant, issuer: LOCAL_AKS_ISSUER })).toThrow(DoesNotFitError);
  });

  it('plans credential names, not subjects', async () => {
    const { plan } = await driverAndPlan();
    expect(plan).toMatchObject({ changed: true, added: [`${NS}-kpo`, `${NS}-scheduler`, `${NS}-worker`], present: [] });
  });

  it('takes 400 "Issuer and subject combination already exists" as success and creates the rest', async () => {
    const { driver, current, plan } = await driverAndPlan();
    seed('made-by-someone-else', subjectOf(NS, 'scheduler'));
    await driver.write(current, plan.next);
    const stored = credentials(stack, identity);
    expect(stored.map((c) => c.name).sort()).toEqual(['made-by-someone-else', `${NS}-kpo`, `${NS}-worker`]);
    expect(stack.azure.calls.filter((c) => c.op === 'createOrUpdate').map((c) => c.status)).toEqual([201, 400, 201]);
    // The verify read sees the grant under the other name.
    const scheduler = desiredGrant({ namespace: NS, selection: { components: ['scheduler'] } });
    expect(driver.plan(await driver.read(), { key: 'k', grant: scheduler, issuer: LOCAL_AKS_ISSUER })).toMatchObject({
      changed: false,
      present: ['made-by-someone-else'],
    });
  });

  it('never overwrites a name another writer took since the read: conflict, no PUT for it', async () => {
    const { driver, current, plan } = await driverAndPlan();
    seed(`${NS}-scheduler`, 'system:serviceaccount:intruder:intruder-sa');
    const error = await driver.write(current, plan.next).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameConflictError);
    expect(stack.azure.calls.filter((c) => c.op === 'createOrUpdate' && c.name === `${NS}-scheduler`)).toEqual([]);
    expect(credentials(stack, identity).find((c) => c.name === `${NS}-scheduler`)?.subject).toBe(
      'system:serviceaccount:intruder:intruder-sa',
    );
  });

  it('skips a credential another writer already created with the same grant', async () => {
    const { driver, current, plan } = await driverAndPlan();
    seed(`${NS}-worker`, subjectOf(NS, 'worker'));
    await driver.write(current, plan.next);
    expect(stack.azure.calls.filter((c) => c.op === 'createOrUpdate').map((c) => c.name)).toEqual([
      `${NS}-kpo`,
      `${NS}-scheduler`,
    ]);
  });
});

describe('ARM errors as a person reads them', () => {
  const id = 'sub/rg/mi';
  const arm = (statusCode: number | undefined, code: string, message = 'x') =>
    Object.assign(new Error(message), { name: 'RestError', statusCode, code });

  it.each([
    [
      '404 identity',
      arm(404, 'ResourceNotFound'),
      'read',
      false,
      /mi was not found \(check subscription, resource group, name\)/,
    ],
    [
      '403 on write',
      arm(403, 'AuthorizationFailed'),
      'write',
      false,
      /federatedIdentityCredentials\/write on that identity/,
    ],
    ['403 on read', arm(403, 'AuthorizationFailed'), 'read', false, /federatedIdentityCredentials\/read/],
    ['403 on delete', arm(403, 'AuthorizationFailed'), 'delete', false, /federatedIdentityCredentials\/delete/],
    ['401', arm(401, 'InvalidAuthenticationToken'), 'read', false, /refused the function's token/],
    ['429 after retries', arm(429, 'TooManyRequests'), 'write', true, /kept throttling/],
    ['500 after retries', arm(500, 'InternalServerError'), 'write', true, /InternalServerError/],
    ['no answer', arm(undefined, 'ECONNRESET', 'socket hang up'), 'read', true, /socket hang up/],
    ['another 400', arm(400, 'BadRequest', 'The issuer is invalid'), 'write', false, /The issuer is invalid/],
    [
      'no credential',
      Object.assign(new Error('no MI'), { name: 'CredentialUnavailableError' }),
      'read',
      false,
      /managed identity/,
    ],
  ] as const)('%s -> TargetError', (_name, error, action, retryable, message) => {
    const mapped = toMsiError(error, id, action);
    expect(mapped).toBeInstanceOf(TargetError);
    expect(mapped).toMatchObject({ retryable, message: expect.stringMatching(message) });
  });

  it('maps the 409 to a lost race and the 21st credential to does-not-fit, naming what was done', () => {
    const conflict = arm(409, 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity');
    expect(toMsiError(conflict, id, 'write')).toBeInstanceOf(WriteConflictError);
    const full = arm(400, 'BadRequest', "Too many Federated Identity Credentials are written to Managed Identity 'x'.");
    const mapped = toMsiError(full, id, 'write', ['created ns-a']);
    expect(mapped).toBeInstanceOf(DoesNotFitError);
    expect(mapped.message).toMatch(/created ns-a before this failure.*four Deployments/);
  });
});
