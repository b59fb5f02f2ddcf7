import { randomUUID } from 'node:crypto';
import type { FaultInjector } from './faults.ts';
import type { EventEntry } from './state.ts';

export interface JsonReply {
  status: number;
  json: unknown;
}

export interface EventsContext {
  faults: FaultInjector;
  /** Receives the entries the bus accepted (failed entries never reach rules/targets). */
  accept(entries: EventEntry[]): void;
}

/** JSON 1.1 error body; the SDK reads the error name from `__type`. */
export function jsonError(status: number, type: string, message: string): JsonReply {
  return { status, json: { __type: type, message } };
}

type ResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

// PutEvents limits: 10 entries per call, 256 KB per request (computed the way the EventBridge guide describes).
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function entrySize(raw: Record<string, unknown>): number {
  let size = raw.Time === undefined ? 0 : 14;
  for (const key of ['Source', 'DetailType', 'Detail'] as const) {
    const value = raw[key];
    if (typeof value === 'string') size += Buffer.byteLength(value);
  }
  if (Array.isArray(raw.Resources)) {
    for (const r of raw.Resources) if (typeof r === 'string') size += Buffer.byteLength(r);
  }
  return size;
}

/** The SDK serialises `Time` as epoch seconds; keep it as ISO 8601 for readability. */
function timeOf(value: unknown): string | undefined {
  if (typeof value === 'number') return new Date(value * 1000).toISOString();
  return optionalString(value);
}

function toEntry(raw: Record<string, unknown>): EventEntry | ResultEntry {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof raw[field] !== 'string' || raw[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  const detail = String(raw.Detail);
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    parsed = undefined;
  }
  // EventBridge requires Detail to be a JSON object; anything else fails only this entry.
  if (!isRecord(parsed)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const entry: EventEntry = { Source: String(raw.Source), DetailType: String(raw.DetailType), Detail: detail };
  const bus = optionalString(raw.EventBusName);
  if (bus !== undefined) entry.EventBusName = bus;
  const time = timeOf(raw.Time);
  if (time !== undefined) entry.Time = time;
  if (Array.isArray(raw.Resources)) entry.Resources = raw.Resources.filter((r) => typeof r === 'string');
  return entry;
}

function putEvents(body: unknown, ctx: EventsContext): JsonReply {
  const entries = isRecord(body) ? body.Entries : undefined;
  if (!Array.isArray(entries)) {
    return jsonError(
      400,
      'ValidationException',
      "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
    );
  }
  if (entries.length < 1 || entries.length > MAX_ENTRIES) {
    const bound = entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`;
    return jsonError(
      400,
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${bound}`,
    );
  }
  const records = entries.map((e): Record<string, unknown> => (isRecord(e) ? e : {}));
  if (records.reduce((sum, r) => sum + entrySize(r), 0) > MAX_REQUEST_BYTES) {
    return jsonError(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
  }
  const accepted: EventEntry[] = [];
  const results = records.map((raw, index): ResultEntry => {
    const entry = toEntry(raw);
    if (!('Source' in entry)) return entry;
    // Partial failure is per entry: the call itself succeeds with FailedEntryCount > 0.
    if (ctx.faults.failsEntry(entry, index)) {
      return { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service failure.' };
    }
    entry.EventId = randomUUID();
    accepted.push(entry);
    return { EventId: entry.EventId };
  });
  if (accepted.length > 0) ctx.accept(accepted);
  const failed = results.filter((r) => 'ErrorCode' in r).length;
  return { status: 200, json: { FailedEntryCount: failed, Entries: results } };
}

/** Dispatches `X-Amz-Target: AWSEvents.<Operation>`; the body has already been JSON-parsed. */
export function handleEventsAction(operation: string, body: unknown, ctx: EventsContext): JsonReply {
  if (operation === 'PutEvents') return putEvents(body, ctx);
  return jsonError(400, 'UnknownOperationException', `Unknown operation ${operation}`);
}
