/** Timers wrapped around the real code without changing it: the SDK client's HTTP handler and `send`, and planning. */
import type { IAMClient } from '@aws-sdk/client-iam';

export interface Meter {
  http: number;
  send: number;
  plan: number;
  sleep: number;
}

async function timeInto<T>(meter: Meter, key: keyof Meter, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    meter[key] += performance.now() - started;
  }
}

/**
 * Accumulates the time inside the client's HTTP handler (the client calls `config.requestHandler.handle` per request)
 * and inside `send` (everything the SDK does for a call), by wrapping both on this one client instance.
 */
/** One meter over several clients (the functions read and write through separate IAM clients). */
export function meterClient(...clients: IAMClient[]): Meter {
  const meter: Meter = { http: 0, send: 0, plan: 0, sleep: 0 };
  for (const iam of clients) {
    const http = iam.config.requestHandler as unknown as { handle: (...args: unknown[]) => Promise<unknown> };
    const handle = http.handle.bind(http);
    http.handle = (...args: unknown[]) => timeInto(meter, 'http', () => handle(...args));
    const client = iam as unknown as { send: (...args: unknown[]) => Promise<unknown> };
    const send = client.send.bind(iam);
    client.send = (...args: unknown[]) => timeInto(meter, 'send', () => send(...args));
  }
  return meter;
}

export function timeSync<T>(meter: Meter, fn: () => T): T {
  const started = performance.now();
  try {
    return fn();
  } finally {
    meter.plan += performance.now() - started;
  }
}

export function microseconds(fn: () => unknown, reps: number): number {
  const started = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return ((performance.now() - started) * 1000) / reps;
}

/** The reconciler's sleep (backoff, settle), timed into `meter.sleep`. */
export function timedSleep(meter: Meter): (ms: number) => Promise<void> {
  return (ms) => timeInto(meter, 'sleep', () => new Promise<void>((resolve) => setTimeout(resolve, ms)));
}
