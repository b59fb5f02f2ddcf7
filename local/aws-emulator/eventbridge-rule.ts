import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { DEFAULT_ACCOUNT_ID, type EventEntry } from './state.ts';

/** The envelope fields this model can match on; each lists exact values, any of which matches (OR). */
const MATCHABLE = ['source', 'detail-type', 'account', 'region'] as const;
type MatchableField = (typeof MATCHABLE)[number];

type EventPattern = Readonly<Partial<Record<MatchableField, readonly string[]>>>;

interface EventBridgeRuleOptions {
  readonly name: string;
  /** The bus the rule is on; entries without EventBusName go to `default`, as in EventBridge. */
  readonly eventBusName: string;
  readonly eventPattern: EventPattern;
  /** The rule's target, given the event exactly as EventBridge hands it to an SQS target: the envelope JSON. */
  readonly target: (envelope: string) => void;
  readonly accountId?: string;
  readonly region?: string;
}

/**
 * An EventBridge rule with one target. Fields named in the pattern must all match (AND), each against any of its
 * listed values (OR); a field the event lacks never matches. Only exact string values are modelled: a pattern with
 * anything else is refused here rather than matched differently from EventBridge.
 */
export class EventBridgeRule {
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  readonly #pattern: EventPattern;
  readonly #target: (envelope: string) => void;
  readonly #accountId: string;
  readonly #region: string;

  constructor(options: EventBridgeRuleOptions) {
    for (const [key, values] of Object.entries(options.eventPattern)) {
      if (!(MATCHABLE as readonly string[]).includes(key)) {
        throw new Error(`eventbridge-rule ${options.name}: pattern field ${key} is not modelled`);
      }
      if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string')) {
        throw new Error(`eventbridge-rule ${options.name}: ${key} must be a non-empty list of strings`);
      }
    }
    this.name = options.name;
    this.eventBusName = options.eventBusName;
    this.#pattern = options.eventPattern;
    this.#target = options.target;
    this.#accountId = options.accountId ?? DEFAULT_ACCOUNT_ID;
    this.#region = options.region ?? 'us-east-1';
    this.arn = `arn:aws:events:${this.#region}:${this.#accountId}:rule/${this.eventBusName}/${this.name}`;
  }

  /** Sends every matching entry to the target; returns the envelopes sent. */
  deliver(entries: ReadonlyArray<EventEntry>): Array<EventBridgeEvent<string, unknown>> {
    const sent: Array<EventBridgeEvent<string, unknown>> = [];
    for (const entry of entries) {
      if (!this.#onThisBus(entry.EventBusName)) continue;
      const envelope = this.#envelope(entry);
      if (!this.matches(envelope)) continue;
      this.#target(JSON.stringify(envelope));
      sent.push(envelope);
    }
    return sent;
  }

  matches(envelope: EventBridgeEvent<string, unknown>): boolean {
    return MATCHABLE.every((field) => {
      const allowed = this.#pattern[field];
      return allowed === undefined || allowed.includes(envelope[field]);
    });
  }

  #onThisBus(bus: string | undefined): boolean {
    const name =
      bus === undefined || bus === '' ? 'default' : bus.replace(/^arn:aws[\w-]*:events:[^:]*:\d*:event-bus\//, '');
    return name === this.eventBusName;
  }

  /** The event as EventBridge builds it from a PutEvents entry; key order as EventBridge writes it. */
  #envelope(entry: EventEntry): EventBridgeEvent<string, unknown> {
    // EventBridge reports whole seconds.
    const time = `${(entry.Time ?? new Date().toISOString()).slice(0, 19)}Z`;
    return {
      version: '0',
      id: entry.EventId ?? randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.#accountId,
      time,
      region: this.#region,
      resources: entry.Resources ?? [],
      // PutEvents only accepts a JSON object as Detail, so this parses.
      detail: JSON.parse(entry.Detail),
    };
  }
}
