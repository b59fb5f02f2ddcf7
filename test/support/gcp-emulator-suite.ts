import type { iam_v1 } from '@googleapis/iam';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { iamClientFor } from '../../local/gcp-emulator/iam-client.ts';
import { type GcpEmulator, startGcpEmulator } from '../../local/gcp-emulator/server.ts';

interface GcpEmulatorSuite {
  emu: GcpEmulator;
  client: iam_v1.Iam;
}

/**
 * One emulator per test file and the real client pointed at it; before each test the faults are cleared, the
 * service account is reset to an empty policy and the call log is emptied. `read` and `write` are the two calls the
 * function makes, with the client overridable (another token, retries enabled).
 */
export function useGcpEmulator(serviceAccount: string) {
  const resource = `projects/-/serviceAccounts/${serviceAccount}`;
  const suite = {} as GcpEmulatorSuite;
  beforeAll(async () => {
    suite.emu = await startGcpEmulator();
    suite.client = iamClientFor(suite.emu);
  });
  afterAll(async () => {
    await suite.emu.close();
  });
  beforeEach(() => {
    suite.emu.setFaults({});
    suite.emu.putServiceAccount(serviceAccount);
    suite.emu.resetCalls();
  });
  async function read(version = 3, c: iam_v1.Iam = suite.client): Promise<iam_v1.Schema$Policy> {
    return (await c.projects.serviceAccounts.getIamPolicy({ resource, 'options.requestedPolicyVersion': version }))
      .data;
  }
  async function write(policy: iam_v1.Schema$Policy, c: iam_v1.Iam = suite.client): Promise<iam_v1.Schema$Policy> {
    return (await c.projects.serviceAccounts.setIamPolicy({ resource, requestBody: { policy } })).data;
  }
  return { suite, read, write };
}
