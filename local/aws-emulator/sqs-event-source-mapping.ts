import type { SQSEvent } from 'aws-lambda';
import type { QueuedMessage, ReceivedMessage, SqsQueue } from './sqs-queue.ts';

export interface SqsEventSourceMappingOptions {
  readonly queue: SqsQueue;
  /** The function, invoked synchronously with each batch; what it returns is read as an SQSBatchResponse. */
  readonly invoke: (event: SQSEvent) => Promise<unknown>;
  /** BatchSize: 1-10000, default 10. Above 10 AWS requires a batching window of at least 1 s. */
  readonly batchSize?: number;
  /** MaximumBatchingWindowInSeconds, in ms here; default 20 (AWS: 0 unless set; the Terraform module sets 5 s). */
  readonly batchWindowMs?: number;
  /** Called when the queue's redrive policy moves a message to its dead-letter queue. */
  readonly onDeadLetter?: (letter: DeadLetter) => void;
}

export interface DeadLetter extends QueuedMessage {
  /** Why the last delivery failed, as this mapping saw it. */
  readonly lastError?: string;
}

type InvocationOutcome = 'success' | 'partial' | 'error' | 'invalid-response';

interface Invocation {
  readonly messageIds: readonly string[];
  readonly receiveCounts: readonly number[];
  readonly outcome: InvocationOutcome;
  /** Messages left in the queue for another receive (all of them unless the outcome is success or partial). */
  readonly failed: readonly string[];
  readonly error?: string;
}

type Verdict = { ok: true; failed: string[] } | { ok: false; reason: string };

/**
 * Lambda's SQS event source mapping with ReportBatchItemFailures, for a function with reserved concurrency 1: one
 * batch in flight at a time. It gathers up to batchSize messages (invoking at once when that many are visible,
 * otherwise when the batching window closes), deletes what succeeded, and leaves the rest to come back after the
 * visibility timeout. It never changes visibility itself: Lambda does not either.
 */
export class SqsEventSourceMapping {
  readonly invocations: Invocation[] = [];
  readonly #queue: SqsQueue;
  readonly #invoke: (event: SQSEvent) => Promise<unknown>;
  readonly #batchSize: number;
  readonly #batchWindowMs: number;
  readonly #lastError = new Map<string, string>();
  readonly #waiters: Array<() => void> = [];
  #running: Promise<void> | undefined;
  #window: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SqsEventSourceMappingOptions) {
    const batchSize = options.batchSize ?? 10;
    const batchWindowMs = options.batchWindowMs ?? 20;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new Error(`BatchSize must be an integer from 1 to 10000, got ${batchSize}`);
    }
    if (!(batchWindowMs >= 0 && batchWindowMs <= 300_000)) {
      throw new Error(`the batching window must be from 0 to 300 s, got ${batchWindowMs} ms`);
    }
    if (batchSize > 10 && batchWindowMs < 1000) {
      throw new Error('a BatchSize above 10 needs a MaximumBatchingWindowInSeconds of at least 1');
    }
    this.#queue = options.queue;
    this.#invoke = options.invoke;
    this.#batchSize = batchSize;
    this.#batchWindowMs = batchWindowMs;
    this.#queue.onAvailable(() => this.#poll());
    this.#queue.onRedrive((message) => {
      const lastError = this.#lastError.get(message.messageId);
      this.#lastError.delete(message.messageId);
      options.onDeadLetter?.(lastError === undefined ? message : { ...message, lastError });
    });
  }

  /** Nothing stored in the queue (visible or waiting out a visibility timeout), no batch running, no open window. */
  get drained(): boolean {
    return this.#closed || (this.#running === undefined && this.#window === undefined && this.#queue.size === 0);
  }

  async idle(): Promise<void> {
    while (!this.drained) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Stops polling and waits for the batch in flight; what is still queued stays there. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#window);
    this.#window = undefined;
    await this.#running;
    this.#wake();
  }

  #poll(): void {
    if (this.#closed || this.#running !== undefined) return;
    const visible = this.#queue.visibleCount();
    if (visible === 0) return;
    if (visible >= this.#batchSize || this.#batchWindowMs === 0) {
      this.#startBatch();
      return;
    }
    this.#window ??= setTimeout(() => this.#startBatch(), this.#batchWindowMs);
  }

  #startBatch(): void {
    clearTimeout(this.#window);
    this.#window = undefined;
    const received: ReceivedMessage[] = [];
    while (!this.#closed && received.length < this.#batchSize) {
      const chunk = this.#queue.receive(Math.min(10, this.#batchSize - received.length));
      if (chunk.length === 0) break;
      received.push(...chunk);
    }
    if (received.length === 0) {
      // Everything visible was moved to the dead-letter queue by this receive.
      this.#wake();
      return;
    }
    this.#running = this.#deliver(received).finally(() => {
      this.#running = undefined;
      this.#wake();
      this.#poll();
    });
  }

  async #deliver(messages: readonly ReceivedMessage[]): Promise<void> {
    const event: SQSEvent = {
      Records: messages.map((m) => ({
        ...m,
        eventSource: 'aws:sqs',
        eventSourceARN: this.#queue.arn,
        awsRegion: this.#queue.region,
      })),
    };
    const ids = messages.map((m) => m.messageId);
    const receiveCounts = messages.map((m) => Number(m.attributes.ApproximateReceiveCount));
    let outcome: InvocationOutcome;
    let failed: ReadonlySet<string>;
    let error: string | undefined;
    try {
      const verdict = readBatchResponse(await this.#invoke(event), new Set(ids));
      if (verdict.ok) {
        failed = new Set(verdict.failed);
        outcome = failed.size === 0 ? 'success' : 'partial';
      } else {
        [failed, outcome, error] = [new Set(ids), 'invalid-response', verdict.reason];
      }
    } catch (thrown) {
      // A function error: the whole batch returns to the queue, successes included.
      error = thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown);
      [failed, outcome] = [new Set(ids), 'error'];
    }
    for (const message of messages) {
      if (failed.has(message.messageId)) {
        this.#lastError.set(message.messageId, error ?? 'listed in batchItemFailures');
      } else {
        this.#lastError.delete(message.messageId);
        this.#queue.delete(message.receiptHandle);
      }
    }
    const entry = { messageIds: ids, receiveCounts, outcome, failed: [...failed] };
    this.invocations.push(error === undefined ? entry : { ...entry, error });
  }

  #wake(): void {
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
}

const INVALID = 'invalid SQSBatchResponse: ';

/**
 * The partial batch response as Lambda reads it (AWS Lambda guide, "Handling errors for an SQS event source"):
 * a null or empty response, or a null or empty batchItemFailures list, is complete success; a response that is not
 * an object, an itemIdentifier that is null, empty, under another key name, or not a message of this batch is
 * complete failure. Lambda sees the JSON-serialized return value, so this reads that too.
 */
function readBatchResponse(response: unknown, batch: ReadonlySet<string>): Verdict {
  let json: unknown;
  try {
    const text = JSON.stringify(response);
    json = text === undefined ? null : JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `${INVALID}not serializable as JSON (${String(error)})` };
  }
  if (json === null) return { ok: true, failed: [] };
  if (typeof json !== 'object' || Array.isArray(json)) return { ok: false, reason: `${INVALID}not an object` };
  const list = (json as Record<string, unknown>).batchItemFailures;
  if (list === undefined || list === null) return { ok: true, failed: [] };
  if (!Array.isArray(list)) return { ok: false, reason: `${INVALID}batchItemFailures is not a list` };
  const failed = new Set<string>();
  for (const item of list) {
    const id = typeof item === 'object' && item !== null ? (item as Record<string, unknown>).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '') {
      return { ok: false, reason: `${INVALID}an item has no itemIdentifier (${JSON.stringify(item)})` };
    }
    if (!batch.has(id)) return { ok: false, reason: `${INVALID}itemIdentifier ${id} is not a message of this batch` };
    failed.add(id);
  }
  return { ok: true, failed: [...failed] };
}
