/**
 * The AWS emulator in its own process, controlled over IPC (see remote-emulator.ts). Part 2 runs it here so that the
 * benchmark process's event loop does only our work: its busy time is then our own time, with the emulator's request
 * handling, the emulated latency and any deliberate wait all outside it.
 */

import { startAwsEmulator } from '../local/aws-emulator/server.ts';
import { BENCH_ISSUER } from './fixtures.ts';

export type ChildRequest =
  | { id: number; op: 'putRole'; name: string; document: unknown }
  | { id: number; op: 'getTrustPolicyText'; name: string }
  | { id: number; op: 'setFaults'; latencyMs: number }
  | { id: number; op: 'setTrustPolicyQuota'; quota: number }
  | { id: number; op: 'callsSince'; index: number }
  | { id: number; op: 'close' };

export interface ChildCall {
  readonly service: string;
  readonly action: string;
  readonly roleName: string | undefined;
}

export type ChildResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('emulator-child.ts must be started with an IPC channel (fork)');
  const aws = await startAwsEmulator({
    trustPolicyQuota: Number(process.env.BENCH_EMULATOR_QUOTA ?? 2048),
    oidcProviders: [BENCH_ISSUER],
  });
  const answer = (request: ChildRequest): unknown => {
    switch (request.op) {
      case 'putRole':
        return aws.putRole(request.name, request.document);
      case 'getTrustPolicyText':
        return aws.getTrustPolicyText(request.name);
      case 'setFaults':
        aws.setFaults({ latencyMs: request.latencyMs });
        return null;
      case 'setTrustPolicyQuota':
        aws.setTrustPolicyQuota(request.quota);
        return null;
      case 'callsSince':
        return aws.calls.slice(request.index).map(
          (c): ChildCall => ({
            service: c.service,
            action: c.action,
            roleName: typeof c.params.RoleName === 'string' ? c.params.RoleName : undefined,
          }),
        );
      case 'close':
        setImmediate(() => {
          void aws.close().then(() => process.exit(0));
        });
        return null;
    }
  };
  process.on('message', (request: ChildRequest) => {
    let response: ChildResponse;
    try {
      response = { id: request.id, ok: true, value: answer(request) };
    } catch (error) {
      response = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    send(response);
  });
  process.on('disconnect', () => {
    void aws.close().then(() => process.exit(0));
  });
  send({ ready: aws.url });
}

main().catch((error: unknown) => {
  console.error(`emulator-child: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
