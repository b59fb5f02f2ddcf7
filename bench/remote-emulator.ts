/** Starts bench/emulator-child.ts in a child process (loopback only) and talks to it over the IPC channel. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildCall, ChildRequest, ChildResponse } from './emulator-child.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./emulator-child.ts', import.meta.url));

type Op = ChildRequest extends infer R ? (R extends { op: infer O } ? O : never) : never;
type Args<O extends Op> = Omit<Extract<ChildRequest, { op: O }>, 'id' | 'op'>;

export interface RemoteEmulator {
  readonly url: string;
  putRole(name: string, document: unknown): Promise<void>;
  getTrustPolicyText(name: string): Promise<string>;
  setLatency(latencyMs: number): Promise<void>;
  setTrustPolicyQuota(quota: number): Promise<void>;
  /** The calls the emulator answered from position `index` of its log on. */
  callsSince(index: number): Promise<ChildCall[]>;
  close(): Promise<void>;
}

export async function startRemoteEmulator(options: {
  quota: number;
  startTimeoutMs?: number;
}): Promise<RemoteEmulator> {
  const child: ChildProcess = fork(CHILD, [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_EMULATOR_QUOTA: String(options.quota), NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  let exited = false;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the emulator child did not start in time'));
    }, options.startTimeoutMs ?? 30_000);
    child.once('exit', (code) => {
      exited = true;
      clearTimeout(timer);
      reject(new Error(`the emulator child exited with ${code}`));
    });
    child.on('message', (message: { ready?: string } | ChildResponse) => {
      if ('ready' in message && typeof message.ready === 'string') {
        clearTimeout(timer);
        resolve(message.ready);
        return;
      }
      if (!('id' in message)) return;
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.value);
      else waiter?.reject(new Error(message.error));
    });
  });
  child.on('exit', () => {
    exited = true;
    for (const waiter of pending.values()) waiter.reject(new Error('the emulator child exited'));
    pending.clear();
  });

  const call = <O extends Op>(op: O, args: Args<O>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error('the emulator child has exited'));
        return;
      }
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...args });
    });

  return {
    url,
    putRole: async (name, document) => void (await call('putRole', { name, document })),
    getTrustPolicyText: async (name) => String(await call('getTrustPolicyText', { name })),
    setLatency: async (latencyMs) => void (await call('setFaults', { latencyMs })),
    setTrustPolicyQuota: async (quota) => void (await call('setTrustPolicyQuota', { quota })),
    callsSince: async (index) => (await call('callsSince', { index })) as ChildCall[],
    close: async () => {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call('close', {}).catch(() => undefined);
      const timer = setTimeout(() => child.kill(), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
}
