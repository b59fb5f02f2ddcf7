import { SeededRoller } from '../seeded-roller.ts';
import type { EventEntry } from './state.ts';

/** Fault injection settings. `setFaults` replaces them as a whole; `setFaults({})` clears everything. */
export interface Faults {
  /** Added to every response (including error responses). */
  latencyMs?: number;
  /** 0..1: answer IAM/STS 400 `Throttling` "Rate exceeded", EventBridge 400 `ThrottlingException`. */
  throttleRate?: number;
  /** 0..1: answer IAM/STS 500 `ServiceFailure`, EventBridge 500 `InternalException`. */
  serverErrorRate?: number;
  /**
   * Scripted outcomes for the next matching requests, consumed in order before the rates apply, e.g.
   * `['throttle', 'throttle']` then success: deterministic without relying on the RNG.
   */
  sequence?: Array<InjectedFault | 'ok'>;
  /** Restrict throttling / 5xx injection to these actions (e.g. `['UpdateAssumeRolePolicy']`). Default: all. */
  actions?: string[];
  /**
   * 0..1: after a successful UpdateAssumeRolePolicy, overwrite the role's document as another writer would.
   * Real IAM has no etag on trust policies, so a read-modify-write racing another writer loses an update.
   */
  concurrentWriterRate?: number;
  /** Custom overwrite; receives the parsed documents before/after this write. Default: return `before`. */
  concurrentWriter?: (before: unknown, after: unknown) => unknown;
  /** PutEvents entries (by index in the request, or by predicate) that fail with ErrorCode `InternalFailure`. */
  failEventEntries?: number[] | ((entry: EventEntry, index: number) => boolean);
  /**
   * Accept and never answer: matching requests are read, logged with status 0 and left open without a reply (the
   * operation is not performed) until the client gives up or the emulator closes. `true`: every request; a list:
   * only these actions (e.g. `['GetRole']`).
   */
  hang?: true | string[];
  /** Reseed the fault RNG when these faults are installed (default: the emulator's `seed` option). */
  seed?: number;
}

export type InjectedFault = 'throttle' | 'server-error';

/** Holds the current faults and a seeded RNG; every decision is a pure function of seed + request order. */
export class FaultInjector {
  #faults: Faults = {};
  #sequence: Array<InjectedFault | 'ok'> = [];
  #dice: SeededRoller;

  constructor(private readonly defaultSeed: number) {
    this.#dice = new SeededRoller(defaultSeed);
  }

  set(faults: Faults): void {
    this.#faults = { ...faults };
    this.#sequence = [...(faults.sequence ?? [])];
    // Reseeding on every install makes a scenario reproducible regardless of earlier traffic.
    this.#dice.reseed(faults.seed ?? this.defaultSeed);
  }

  get latencyMs(): number {
    return Math.max(0, this.#faults.latencyMs ?? 0);
  }

  /** Whether this request is left without an answer (see `Faults.hang`). */
  hangs(action: string): boolean {
    const { hang } = this.#faults;
    return hang === true || hang?.includes(action) === true;
  }

  /** Decides whether this request is answered by an injected throttle or server error instead. */
  pick(action: string): InjectedFault | undefined {
    const { actions } = this.#faults;
    if (actions !== undefined && !actions.includes(action)) return undefined;
    const scripted = this.#sequence.shift();
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    if (this.#dice.roll(this.#faults.throttleRate)) return 'throttle';
    if (this.#dice.roll(this.#faults.serverErrorRate)) return 'server-error';
    return undefined;
  }

  /** Returns the document a concurrent writer leaves behind, or undefined when no race happens this time. */
  concurrentOverwrite(before: unknown, after: unknown): { document: unknown } | undefined {
    if (!this.#dice.roll(this.#faults.concurrentWriterRate)) return undefined;
    const writer = this.#faults.concurrentWriter;
    return { document: writer ? writer(before, after) : before };
  }

  failsEntry(entry: EventEntry, index: number): boolean {
    const rule = this.#faults.failEventEntries;
    if (rule === undefined) return false;
    return Array.isArray(rule) ? rule.includes(index) : rule(entry, index);
  }
}
