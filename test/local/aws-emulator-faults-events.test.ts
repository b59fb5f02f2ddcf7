import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { GetRoleCommand, IAMClient, UpdateAssumeRolePolicyCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AwsEmulator, type EventEntry, startAwsEmulator } from '../../local/aws-emulator/server.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const PROVIDER = 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC';

function trustPolicy(namespaces: string[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: namespaces.map((ns) => ({
      Sid: ns.replace(/[^0-9A-Za-z]/g, ''),
      Effect: 'Allow',
      Principal: { Federated: PROVIDER },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringLike: { 'oidc.eks.us-east-1.amazonaws.com/id/ABC:sub': `system:serviceaccount:${ns}:*` } },
    })),
  };
}

async function failure(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $fault?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
    return {
      name: e.name,
      message: e.message,
      fault: e.$fault,
      status: e.$metadata?.httpStatusCode,
      attempts: e.$metadata?.attempts,
    };
  }
  throw new Error('expected the call to fail');
}

function entry(n: number, extra: Partial<PutEventsRequestEntry> = {}): PutEventsRequestEntry {
  return {
    Source: 'astro-identity-sync',
    DetailType: 'Deployment Changed',
    Detail: JSON.stringify({ deploymentId: `d${n}` }),
    EventBusName: 'astro-identity',
    ...extra,
  };
}

let emu: AwsEmulator;
let iam: IAMClient;
let iamWithRetries: IAMClient;
let events: EventBridgeClient;
const original = trustPolicy(['ns0']);

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emu = await startAwsEmulator({ seed: 7, oidcProviders: ['https://oidc.eks.us-east-1.amazonaws.com/id/ABC'] });
  const common = { endpoint: emu.url, region: 'us-east-1', credentials: CREDENTIALS };
  iam = new IAMClient({ ...common, maxAttempts: 1 });
  iamWithRetries = new IAMClient(common); // SDK default: standard mode, 3 attempts
  events = new EventBridgeClient({ ...common, maxAttempts: 1 });
});

afterAll(async () => {
  for (const client of [iam, iamWithRetries, events]) client.destroy();
  await emu.close();
});

beforeEach(() => {
  emu.setFaults({});
  emu.putRole('astro-role', original);
  emu.resetCalls();
});

const getRole = (client: IAMClient = iam) => client.send(new GetRoleCommand({ RoleName: 'astro-role' }));
const update = (document: unknown, client: IAMClient = iam) =>
  client.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'astro-role', PolicyDocument: JSON.stringify(document) }));

describe('aws emulator: throttling, server errors and latency', () => {
  it('the SDK default retry absorbs transient Throttling (400) and succeeds on the third attempt', async () => {
    emu.setFaults({ sequence: ['throttle', 'throttle'] });
    const out = await getRole(iamWithRetries);
    expect(out.Role?.RoleName).toBe('astro-role');
    expect(out.$metadata.attempts).toBe(3);
    expect(emu.calls.map((c) => c.status)).toEqual([400, 400, 200]);
    expect(emu.count('GetRole')).toBe(3);
  });

  it('without retries the SDK surfaces the unmodeled IAM throttle as name "Throttling"', async () => {
    emu.setFaults({ throttleRate: 1 });
    const error = await failure(getRole());
    expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', status: 400, fault: 'client' });
  });

  it('seeded throttleRate is deterministic across emulators and across setFaults calls', async () => {
    const statuses = async (target: AwsEmulator, client: IAMClient): Promise<number[]> => {
      target.resetCalls();
      for (let i = 0; i < 24; i++) await getRole(client).catch(() => undefined);
      return target.calls.map((c) => c.status);
    };
    emu.setFaults({ throttleRate: 0.5 });
    const first = await statuses(emu, iam);
    emu.setFaults({ throttleRate: 0.5 });
    expect(await statuses(emu, iam)).toEqual(first);
    expect(first).toContain(200);
    expect(first).toContain(400);
    const twin = await startAwsEmulator({
      seed: 7,
      oidcProviders: ['https://oidc.eks.us-east-1.amazonaws.com/id/ABC'],
    });
    twin.putRole('astro-role', original);
    twin.setFaults({ throttleRate: 0.5 });
    const twinClient = new IAMClient({
      endpoint: twin.url,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxAttempts: 1,
    });
    expect(await statuses(twin, twinClient)).toEqual(first);
    twinClient.destroy();
    await twin.close();
  });

  it('restricts injected faults to the listed actions', async () => {
    emu.setFaults({ throttleRate: 1, actions: ['UpdateAssumeRolePolicy'] });
    await getRole();
    expect(await failure(update(trustPolicy(['ns1'])))).toMatchObject({ name: 'Throttling' });
    expect(emu.getTrustPolicy('astro-role')).toEqual(original);
  });

  it('injects 500 ServiceFailure (ServiceFailureException, server fault); the default retry recovers', async () => {
    emu.setFaults({ serverErrorRate: 1 });
    const error = await failure(getRole());
    expect(error).toMatchObject({ name: 'ServiceFailureException', status: 500, fault: 'server' });
    emu.setFaults({ sequence: ['server-error'] });
    const out = await getRole(iamWithRetries);
    expect(out.$metadata.attempts).toBe(2);
    expect(emu.calls.map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('adds latencyMs to every response', async () => {
    emu.setFaults({ latencyMs: 120 });
    const started = performance.now();
    await getRole();
    await failure(iam.send(new GetRoleCommand({ RoleName: 'missing' })));
    expect(performance.now() - started).toBeGreaterThanOrEqual(235);
  });
});

describe('aws emulator: concurrent writer (lost update)', () => {
  it('restores the previous document right after a successful UpdateAssumeRolePolicy', async () => {
    const originalText = emu.getTrustPolicyText('astro-role');
    emu.setFaults({ concurrentWriterRate: 1 });
    await update(trustPolicy(['ns0', 'ns1'])); // the caller sees success...
    expect(emu.getTrustPolicyText('astro-role')).toBe(originalText); // ...but its write is lost
    const { Role } = await getRole();
    expect(JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? ''))).toEqual(original);
    expect(emu.calls.map((c) => [c.action, c.status])).toEqual([
      ['UpdateAssumeRolePolicy', 200],
      ['GetRole', 200],
    ]);
  });

  it('uses a custom concurrentWriter, e.g. another tool adding its own statement', async () => {
    const foreign = { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' };
    emu.setFaults({
      concurrentWriterRate: 1,
      concurrentWriter: (before) => {
        const doc = before as { Version: string; Statement: unknown[] };
        return { ...doc, Statement: [...doc.Statement, foreign] };
      },
    });
    await update(trustPolicy(['ns0', 'ns1']));
    expect(emu.getTrustPolicy('astro-role')).toEqual({
      ...original,
      Statement: [...(original.Statement as []), foreign],
    });
  });
});

describe('aws emulator: EventBridge PutEvents', () => {
  it('accepts entries, answers EventIds and records them on the bus', async () => {
    const time = new Date('2025-01-02T03:04:05Z');
    const out = await events.send(new PutEventsCommand({ Entries: [entry(1, { Time: time }), entry(2)] }));
    expect(out.FailedEntryCount).toBe(0);
    const ids = out.Entries?.map((e) => e.EventId);
    expect(ids).toEqual([expect.any(String), expect.any(String)]);
    // The bus keeps the EventId it answered: a rule delivers the event under that id.
    expect(emu.events.slice(-2)).toEqual([
      { ...entry(1), Time: '2025-01-02T03:04:05.000Z', EventId: ids?.[0] },
      { ...entry(2), EventId: ids?.[1] },
    ]);
    expect(emu.calls.at(-1)).toMatchObject({ service: 'events', action: 'PutEvents', status: 200 });
    expect(emu.count('PutEvents')).toBe(1);
  });

  it('rejects more than 10 entries with ValidationException (400)', async () => {
    const entries = Array.from({ length: 11 }, (_, i) => entry(i));
    const error = await failure(events.send(new PutEventsCommand({ Entries: entries })));
    expect(error).toMatchObject({ name: 'ValidationException', status: 400 });
    expect(String(error.message)).toMatch(/less than or equal to 10/);
  });

  it('fails single entries: failEventEntries by index or predicate, and MalformedDetail', async () => {
    const before = emu.events.length;
    emu.setFaults({ failEventEntries: [1] });
    const byIndex = await events.send(new PutEventsCommand({ Entries: [entry(1), entry(2), entry(3)] }));
    expect(byIndex.FailedEntryCount).toBe(1);
    expect(byIndex.Entries?.[1]).toEqual({ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' });
    expect(byIndex.Entries?.[2]?.EventId).toEqual(expect.any(String));
    emu.setFaults({ failEventEntries: (e: EventEntry) => e.Detail.includes('d5') });
    const byPredicate = await events.send(
      new PutEventsCommand({ Entries: [entry(4), entry(5), entry(6, { Detail: 'not json' })] }),
    );
    expect(byPredicate.FailedEntryCount).toBe(2);
    expect(byPredicate.Entries?.map((e) => e.ErrorCode)).toEqual([undefined, 'InternalFailure', 'MalformedDetail']);
    expect(emu.events.slice(before).map((e) => JSON.parse(e.Detail).deploymentId)).toEqual(['d1', 'd3', 'd4']);
  });

  it('delivers accepted entries to onEvents listeners (like a rule target), in order', async () => {
    const received: string[][] = [];
    emu.onEvents(async (entries) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      received.push(entries.map((e) => e.DetailType));
    });
    emu.setFaults({ failEventEntries: [0] });
    await events.send(new PutEventsCommand({ Entries: [entry(1), entry(2, { DetailType: 'Second' })] }));
    emu.setFaults({});
    await events.send(new PutEventsCommand({ Entries: [entry(3, { DetailType: 'Third' })] }));
    await emu.idle();
    expect(received).toEqual([['Second'], ['Third']]);
  });

  it('injects ThrottlingException and InternalException for PutEvents', async () => {
    emu.setFaults({ throttleRate: 1, actions: ['PutEvents'] });
    const throttled = await failure(events.send(new PutEventsCommand({ Entries: [entry(1)] })));
    expect(throttled).toMatchObject({ name: 'ThrottlingException', status: 400 });
    emu.setFaults({ serverErrorRate: 1 });
    const failed = await failure(events.send(new PutEventsCommand({ Entries: [entry(1)] })));
    expect(failed).toMatchObject({ name: 'InternalException', status: 500, fault: 'server' });
  });
});
