import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { DEFAULT_ACCOUNT_ID } from './state.ts';

/** What ReceiveMessage (all attributes) hands a consumer; the Lambda poller adds the event-source fields. */
export type ReceivedMessage = Omit<SQSRecord, 'eventSource' | 'eventSourceARN' | 'awsRegion'>;

/** A message as the queue holds it, for inspection (a dead-letter queue is only ever inspected here). */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly md5OfBody: string;
  readonly senderId: string;
  readonly sentTimestamp: number;
  readonly receiveCount: number;
  readonly firstReceiveTimestamp?: number;
  /** Set on a dead-letter queue's copy: the queue whose redrive policy moved it. */
  readonly deadLetterQueueSourceArn?: string;
}

interface RedrivePolicy {
  readonly deadLetterQueue: SqsQueue;
  readonly maxReceiveCount: number;
}

interface SqsQueueOptions {
  readonly name: string;
  readonly accountId?: string;
  readonly region?: string;
  /** VisibilityTimeout; SQS defaults to 30 s. */
  readonly visibilityTimeoutMs?: number;
  readonly redrivePolicy?: RedrivePolicy;
}

interface Stored {
  messageId: string;
  body: string;
  md5OfBody: string;
  senderId: string;
  sentTimestamp: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  deadLetterQueueSourceArn?: string;
  receiptHandle?: string;
  visibleAt: number;
}

// SendMessage limits: 256 KiB, and only these Unicode characters (the SQS API reference lists them).
const MAX_BODY_BYTES = 262_144;
const INVALID_BODY_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * A standard SQS queue in memory: visibility timeout, receive counts, receipt handles that change on every receive,
 * and a redrive policy that moves a message to the dead-letter queue when a receive would exceed maxReceiveCount
 * (SQS checks on receive, so the consumer sees receive counts 1..maxReceiveCount, never more).
 */
export class SqsQueue {
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly region: string;
  readonly visibilityTimeoutMs: number;
  readonly #accountId: string;
  readonly #redrive: RedrivePolicy | undefined;
  // Insertion order stands in for SQS's best-effort ordering, so runs repeat.
  readonly #messages = new Map<string, Stored>();
  readonly #available: Array<() => void> = [];
  readonly #redriven: Array<(message: QueuedMessage) => void> = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  constructor(options: SqsQueueOptions) {
    this.name = options.name;
    this.region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    this.arn = `arn:aws:sqs:${this.region}:${this.#accountId}:${this.name}`;
    this.url = `https://sqs.${this.region}.amazonaws.com/${this.#accountId}/${this.name}`;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    const max = options.redrivePolicy?.maxReceiveCount;
    if (max !== undefined && (!Number.isInteger(max) || max < 1 || max > 1000)) {
      throw new Error(`maxReceiveCount must be an integer from 1 to 1000, got ${max}`);
    }
    this.#redrive = options.redrivePolicy;
  }

  /** SendMessage. Throws what SQS answers with a 400 (empty, oversized or invalid-character bodies). */
  send(body: string, options: { senderId?: string } = {}): { messageId: string; md5OfBody: string } {
    if (this.#closed) throw new Error(`sqs-queue ${this.name}: closed`);
    if (body.length === 0) throw new Error('InvalidParameterValue: The message body must not be empty.');
    if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
      throw new Error(`InvalidParameterValue: The message body must be shorter than ${MAX_BODY_BYTES} bytes.`);
    }
    if (INVALID_BODY_CHARS.test(body)) throw new Error('InvalidMessageContents: Invalid characters found.');
    const message: Stored = {
      messageId: randomUUID(),
      body,
      md5OfBody: createHash('md5').update(body, 'utf8').digest('hex'),
      senderId: options.senderId ?? this.#accountId,
      sentTimestamp: Date.now(),
      receiveCount: 0,
      visibleAt: 0,
    };
    this.#messages.set(message.messageId, message);
    this.#announce();
    return { messageId: message.messageId, md5OfBody: message.md5OfBody };
  }

  /** ReceiveMessage with MaxNumberOfMessages (1-10) and the queue's visibility timeout. */
  receive(maxMessages = 1): ReceivedMessage[] {
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) {
      throw new Error(`InvalidParameterValue: MaxNumberOfMessages must be from 1 to 10, got ${maxMessages}`);
    }
    const now = Date.now();
    const received: ReceivedMessage[] = [];
    for (const message of this.#messages.values()) {
      if (received.length >= maxMessages) break;
      if (message.visibleAt > now) continue;
      if (this.#redrive !== undefined && message.receiveCount >= this.#redrive.maxReceiveCount) {
        this.#moveToDeadLetterQueue(message, this.#redrive.deadLetterQueue);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.receiptHandle = `AQEB${randomBytes(96).toString('base64')}`;
      message.visibleAt = now + this.visibilityTimeoutMs;
      received.push(toReceived(message));
    }
    this.#schedule();
    return received;
  }

  /** DeleteMessage. Only the latest receipt handle deletes (SQS accepts an older one but may keep the message). */
  delete(receiptHandle: string): boolean {
    for (const message of this.#messages.values()) {
      if (message.receiptHandle !== receiptHandle) continue;
      this.#messages.delete(message.messageId);
      this.#schedule();
      return true;
    }
    return false;
  }

  /** Messages stored, visible or not (ApproximateNumberOfMessages + ...NotVisible). */
  get size(): number {
    return this.#messages.size;
  }

  visibleCount(): number {
    const now = Date.now();
    let count = 0;
    for (const message of this.#messages.values()) if (message.visibleAt <= now) count++;
    return count;
  }

  messages(): QueuedMessage[] {
    return [...this.#messages.values()].map(snapshot);
  }

  /** Called (asynchronously) when a message is sent or becomes visible again after its visibility timeout. */
  onAvailable(listener: () => void): void {
    this.#available.push(listener);
  }

  /** Called when the redrive policy moves a message to the dead-letter queue. */
  onRedrive(listener: (message: QueuedMessage) => void): void {
    this.#redriven.push(listener);
  }

  /** Stops the visibility timer; the messages stay readable. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #accept(message: Stored): void {
    this.#messages.set(message.messageId, message);
    this.#announce();
  }

  #moveToDeadLetterQueue(message: Stored, target: SqsQueue): void {
    this.#messages.delete(message.messageId);
    // The message keeps its id, body and timestamps; SQS records where it came from.
    const { receiptHandle: _handle, ...kept } = message;
    target.#accept({ ...kept, visibleAt: 0, deadLetterQueueSourceArn: this.arn });
    const copy = snapshot(message);
    for (const listener of this.#redriven) listener(copy);
  }

  #announce(): void {
    if (this.#closed) return;
    queueMicrotask(() => {
      if (this.#closed) return;
      for (const listener of this.#available) listener();
    });
  }

  /** One timer, for the earliest in-flight message to become visible again. */
  #schedule(): void {
    if (this.#closed) return;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const message of this.#messages.values()) {
      if (message.visibleAt > now && message.visibleAt < next) next = message.visibleAt;
    }
    if (next === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = next;
    if (next === Number.POSITIVE_INFINITY) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#announce();
        this.#schedule();
      },
      // Timers may fire a millisecond early; visibility is compared with Date.now().
      Math.max(1, next - now + 1),
    );
  }
}

function snapshot(message: Stored): QueuedMessage {
  const { receiptHandle: _handle, visibleAt: _visibleAt, ...rest } = message;
  return { ...rest };
}

function toReceived(message: Stored): ReceivedMessage {
  const attributes: ReceivedMessage['attributes'] = {
    ApproximateReceiveCount: String(message.receiveCount),
    SentTimestamp: String(message.sentTimestamp),
    SenderId: message.senderId,
    ApproximateFirstReceiveTimestamp: String(message.firstReceiveTimestamp ?? message.sentTimestamp),
  };
  if (message.deadLetterQueueSourceArn !== undefined) {
    attributes.DeadLetterQueueSourceArn = message.deadLetterQueueSourceArn;
  }
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle ?? '',
    body: message.body,
    attributes,
    // EventBridge sets no message attributes, so neither does this model (nor md5OfMessageAttributes).
    messageAttributes: {},
    md5OfBody: message.md5OfBody,
  };
}
