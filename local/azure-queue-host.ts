import type { InvocationContext, LogLevel } from '@azure/functions';
import type { DequeuedMessageItem, QueueClient } from '@azure/storage-queue';
import { type ContextOptions, invocationContext } from './azure-functions-http-server.ts';

/**
 * What the Azure Functions host does for a `storageQueue` trigger (Microsoft.Azure.WebJobs.Extensions.Storage.Queues
 * `QueueListener` and `QueueProcessor`), driven by the real @azure/storage-queue client against Azurite or Azure:
 *
 * - polls with receiveMessages (batchSize messages, invisible while they are processed), backing off from 100 ms to
 *   maxPollingInterval while the queue is empty;
 * - decodes each message as `extensions.queues.messageEncoding: base64` (the default) does; a message that is not
 *   base64 cannot be bound, and the host moves it straight to `<queue>-poison` without invoking the function;
 * - hands the Node v4 handler the JSON-parsed value when the text is valid JSON, otherwise the string, with
 *   `triggerMetadata` {id, dequeueCount, insertionTime, expirationTime, nextVisibleTime, popReceipt};
 * - deletes the message when the handler resolves; when it throws, makes the message visible again after
 *   `visibilityTimeout` (default 0), or, once it has been dequeued maxDequeueCount times (default 5), copies its text
 *   to `<queue>-poison` and deletes it. A message already dequeued more than maxDequeueCount times (an instance
 *   crashed while holding it) is poisoned before the function is invoked.
 */
export interface QueueHostOptions<R = unknown> {
  readonly queue: QueueClient;
  /** `<queue>-poison`; created on first use if missing, as the host does. */
  readonly poisonQueue: QueueClient;
  readonly handler: (message: unknown, context: InvocationContext) => Promise<R>;
  /** The function's name in its InvocationContext (default `reconciler`). */
  readonly functionName?: string;
  /** Where the handler's context logs go. */
  readonly context?: Omit<ContextOptions, 'triggerMetadata'>;
  /** host.json `extensions.queues.maxDequeueCount` (default 5). */
  readonly maxDequeueCount?: number;
  /** host.json `extensions.queues.visibilityTimeout`, in seconds: how long a failed message stays invisible (0). */
  readonly visibilityTimeoutSeconds?: number;
  /** host.json `extensions.queues.batchSize`: messages received and processed in parallel (default 16, at most 32). */
  readonly batchSize?: number;
  /**
   * host.json `newBatchThreshold`: a new batch is fetched once this few are still running (default batchSize / 2;
   * per vCPU in Azure).
   */
  readonly newBatchThreshold?: number;
  /** host.json `maxPollingInterval` in ms (the host's default is 60 000; `wake()` skips the wait). */
  readonly maxPollingIntervalMs?: number;
  /**
   * How long a received message stays invisible while it is processed, in seconds. The host uses 10 minutes and
   * renews it while the function runs; nothing here renews it, so keep it above the longest invocation.
   */
  readonly processingVisibilityTimeoutSeconds?: number;
  /** Called after every handler invocation and every poison move. */
  readonly onOutcome?: (outcome: QueueMessageOutcome<R>) => void;
  /** The host's own log lines (poison moves, receive errors). */
  readonly onLog?: (level: LogLevel, text: string) => void;
}

export interface QueueMessageOutcome<R = unknown> {
  readonly messageId: string;
  readonly dequeueCount: number;
  /**
   * `completed`: the handler resolved and the message was deleted; `released`: the handler threw and the message
   * will be delivered again; `poisoned`: moved to the poison queue; `lost`: the host no longer held the message
   * (its pop receipt changed or it was gone) when it tried to settle it, so another delivery will decide.
   */
  readonly status: 'completed' | 'released' | 'poisoned' | 'lost';
  /** What the handler resolved to (completed only). */
  readonly result?: R;
  /** The handler's exception, or why the message was poisoned without an invocation. */
  readonly error?: string;
  /** Whether the handler ran for this delivery. */
  readonly invoked: boolean;
}

export interface QueueHost {
  /** Polls now (a sender in the same process just enqueued, as the host's SharedQueueWatcher does). */
  wake(): void;
  /** Stops polling and waits for the invocations in flight to settle. */
  close(): Promise<void>;
}

/** How a sender enqueues for the host's default base64 encoding: the JSON text, base64-encoded. */
export function encodeQueueMessage(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError('a queue message must be JSON-serializable');
  return Buffer.from(text, 'utf8').toString('base64');
}

// .NET's Convert.FromBase64String: whitespace is ignored, the rest must be whole groups of the base64 alphabet with at
// most two '=' at the end. Node's Buffer decoder accepts nearly anything, so it cannot tell.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The message text as the base64 message encoding yields it, or undefined when it is not base64. */
export function decodeBase64MessageText(messageText: string): string | undefined {
  const compact = messageText.replace(/[ \t\r\n]/g, '');
  if (!BASE64.test(compact)) return undefined;
  // The host reads the bytes as UTF-8 (BinaryData.ToString), replacing invalid sequences.
  return new TextDecoder('utf-8').decode(Buffer.from(compact, 'base64'));
}

/** What the Node v4 worker hands the handler for a string trigger value: parsed when it is JSON. */
export function bindQueueMessage(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function triggerMetadata(item: DequeuedMessageItem): Record<string, unknown> {
  return {
    id: item.messageId,
    dequeueCount: item.dequeueCount,
    insertionTime: item.insertedOn.toISOString(),
    expirationTime: item.expiresOn.toISOString(),
    nextVisibleTime: item.nextVisibleOn.toISOString(),
    popReceipt: item.popReceipt,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('statusCode' in error)) return undefined;
  return typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

/** 404 (message or queue gone) and 400 on a stale pop receipt: someone else holds the message now. */
function notHeldAnymore(error: unknown): boolean {
  const status = statusOf(error);
  return status === 404 || status === 400;
}

export function startQueueHost<R>(options: QueueHostOptions<R>): QueueHost {
  const { queue, poisonQueue, handler } = options;
  const functionName = options.functionName ?? 'reconciler';
  const maxDequeueCount = options.maxDequeueCount ?? 5;
  const visibilityTimeout = options.visibilityTimeoutSeconds ?? 0;
  const batchSize = Math.min(Math.max(options.batchSize ?? 16, 1), 32);
  const newBatchThreshold = options.newBatchThreshold ?? Math.floor(batchSize / 2);
  const minPollingMs = 100;
  const maxPollingMs = Math.max(options.maxPollingIntervalMs ?? 60_000, minPollingMs);
  const processingVisibility = options.processingVisibilityTimeoutSeconds ?? 600;
  const log = options.onLog ?? (() => {});
  const report = options.onOutcome ?? (() => {});

  let closed = false;
  const abort = new AbortController();
  const inFlight = new Set<Promise<void>>();
  let woken = false;
  let wakeSleeper: (() => void) | undefined;
  let settledOne: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken || closed) {
        woken = false;
        resolve();
        return;
      }
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleeper = undefined;
        woken = false;
        resolve();
      }
      wakeSleeper = done;
    });

  async function sendToPoison(item: DequeuedMessageItem): Promise<void> {
    log(
      'warning',
      `Message has reached MaxDequeueCount of ${maxDequeueCount}. Moving message to queue '${poisonQueue.name}'.`,
    );
    try {
      await poisonQueue.sendMessage(item.messageText);
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      await poisonQueue.createIfNotExists();
      await poisonQueue.sendMessage(item.messageText);
    }
  }

  /** Settles one delivery; false when the message was no longer ours to settle. */
  async function settle(action: () => Promise<unknown>): Promise<boolean> {
    try {
      await action();
      return true;
    } catch (error) {
      if (notHeldAnymore(error)) return false;
      throw error;
    }
  }

  async function poison(item: DequeuedMessageItem, invoked: boolean, error?: string): Promise<void> {
    await sendToPoison(item);
    await settle(() => queue.deleteMessage(item.messageId, item.popReceipt));
    report({
      messageId: item.messageId,
      dequeueCount: item.dequeueCount,
      status: 'poisoned',
      invoked,
      ...(error === undefined ? {} : { error }),
    });
  }

  async function processMessage(item: DequeuedMessageItem): Promise<void> {
    const text = decodeBase64MessageText(item.messageText);
    if (text === undefined) {
      // Binding fails before the function runs, and retrying cannot change the bytes: straight to poison.
      await poison(
        item,
        false,
        "the message is not valid base64 (extensions.queues.messageEncoding is 'base64'); moved to the poison queue without invoking the function",
      );
      return;
    }
    if (item.dequeueCount > maxDequeueCount) {
      await poison(item, false);
      return;
    }
    const context = invocationContext(functionName, { ...options.context, triggerMetadata: triggerMetadata(item) });
    let invocation: { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: string };
    try {
      invocation = { ok: true, result: await handler(bindQueueMessage(text), context) };
    } catch (error) {
      invocation = { ok: false, error: errorText(error) };
    }
    const base = { messageId: item.messageId, dequeueCount: item.dequeueCount, invoked: true } as const;
    if (invocation.ok) {
      const held = await settle(() => queue.deleteMessage(item.messageId, item.popReceipt));
      report({ ...base, status: held ? 'completed' : 'lost', result: invocation.result });
    } else if (item.dequeueCount >= maxDequeueCount) {
      await poison(item, true, invocation.error);
    } else {
      const held = await settle(() =>
        queue.updateMessage(item.messageId, item.popReceipt, undefined, visibilityTimeout),
      );
      report({ ...base, status: held ? 'released' : 'lost', error: invocation.error });
    }
  }

  function dispatch(item: DequeuedMessageItem): void {
    const run = processMessage(item)
      .catch((error: unknown) => {
        // The storage call that settles the message failed: it stays invisible until its timeout, then comes back.
        if (!closed) log('error', `settling queue message ${item.messageId} failed: ${errorText(error)}`);
      })
      .finally(() => {
        inFlight.delete(run);
        settledOne?.();
      });
    inFlight.add(run);
  }

  async function loop(): Promise<void> {
    let delay = minPollingMs;
    while (!closed) {
      if (inFlight.size > newBatchThreshold) {
        await new Promise<void>((resolve) => {
          settledOne = resolve;
        });
        settledOne = undefined;
        continue;
      }
      let items: DequeuedMessageItem[];
      try {
        const response = await queue.receiveMessages({
          numberOfMessages: batchSize,
          visibilityTimeout: processingVisibility,
          abortSignal: abort.signal,
        });
        items = response.receivedMessageItems;
      } catch (error) {
        if (closed) break;
        log('error', `receiving from queue '${queue.name}' failed: ${errorText(error)}`);
        await sleep(delay);
        delay = Math.min(delay * 2, maxPollingMs);
        continue;
      }
      if (closed) {
        // Received while closing: hand them back at once instead of leaving them invisible for minutes.
        await Promise.allSettled(items.map((i) => queue.updateMessage(i.messageId, i.popReceipt, undefined, 0)));
        break;
      }
      if (items.length === 0) {
        await sleep(delay);
        delay = Math.min(delay * 2, maxPollingMs);
        continue;
      }
      delay = minPollingMs;
      for (const item of items) dispatch(item);
    }
    await Promise.allSettled([...inFlight]);
  }

  const running = loop();
  return {
    wake() {
      woken = true;
      wakeSleeper?.();
    },
    async close() {
      closed = true;
      wakeSleeper?.();
      settledOne?.();
      // A receive answers at once (storage queues do not long-poll), so waiting for it is short; only a storage
      // service that went away first (its client retrying for minutes) needs the abort.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 5_000);
      });
      await Promise.race([running, late]);
      clearTimeout(timer);
      abort.abort();
      await running;
    },
  };
}

export interface QueueSettlement<R = unknown> {
  readonly messageId: string;
  /** The dequeue count of the delivery that settled it. */
  readonly attempts: number;
  readonly poisoned: boolean;
  /** The handler's result when it completed. */
  readonly result: R | undefined;
  /** Every failed delivery's error, in order, on any instance. */
  readonly errors: readonly string[];
}

interface QueueOutcomes<R = unknown> {
  /** Give it to every host reading the queue (`onOutcome`). */
  record(outcome: QueueMessageOutcome<R>): void;
  /** Resolves when the message has completed or been poisoned, whichever instance took it. */
  settled(messageId: string): Promise<QueueSettlement<R>>;
  /** Rejects every pending `settled`. */
  close(reason: string): void;
}

/**
 * Follows messages to their end across the host instances of one queue. A settlement that nobody waits for yet is
 * kept (the host can finish before the sender's own call returns), up to `keep` of them.
 */
export function createQueueOutcomes<R = unknown>(keep = 10_000): QueueOutcomes<R> {
  const errors = new Map<string, string[]>();
  const done = new Map<string, QueueSettlement<R>>();
  const waiting = new Map<string, Array<{ resolve: (s: QueueSettlement<R>) => void; reject: (e: Error) => void }>>();
  let closedWith: string | undefined;
  const bounded = <V>(map: Map<string, V>) => {
    for (const key of map.keys()) {
      if (map.size <= keep) break;
      map.delete(key);
    }
  };
  return {
    record(outcome) {
      const list = errors.get(outcome.messageId) ?? [];
      if (outcome.error !== undefined) list.push(outcome.error);
      if (outcome.status !== 'completed' && outcome.status !== 'poisoned') {
        errors.set(outcome.messageId, list);
        bounded(errors);
        return;
      }
      errors.delete(outcome.messageId);
      const settlement: QueueSettlement<R> = {
        messageId: outcome.messageId,
        attempts: outcome.dequeueCount,
        poisoned: outcome.status === 'poisoned',
        result: outcome.result,
        errors: list,
      };
      const waiters = waiting.get(outcome.messageId);
      if (waiters === undefined) {
        done.set(outcome.messageId, settlement);
        bounded(done);
        return;
      }
      waiting.delete(outcome.messageId);
      for (const w of waiters) w.resolve(settlement);
    },
    settled(messageId) {
      const known = done.get(messageId);
      if (known !== undefined) {
        done.delete(messageId);
        return Promise.resolve(known);
      }
      if (closedWith !== undefined) return Promise.reject(new Error(closedWith));
      return new Promise((resolve, reject) => {
        waiting.set(messageId, [...(waiting.get(messageId) ?? []), { resolve, reject }]);
      });
    },
    close(reason) {
      closedWith = reason;
      for (const [id, waiters] of waiting) {
        for (const w of waiters) w.reject(new Error(`${reason} (message ${id} was not settled)`));
      }
      waiting.clear();
    },
  };
}
