import { SeededRoller } from '../seeded-roller.ts';
/** Fault injection settings. `setFaults` replaces them as a whole; `setFaults({})` clears everything. */
export interface GcpFaults {
  /** Added to every response, error responses included. */
  latencyMs?: number;
  /** 0..1: answer 429 RESOURCE_EXHAUSTED (IAM's per-project read/write quota). */
  rateLimitRate?: number;
  /** 0..1: answer 503 UNAVAILABLE. */
  serverErrorRate?: number;
  /**
   * Scripted outcomes for the next matching requests, consumed in order before the rates apply:
   * `rate-limit` = 429, `server-error` = 503 UNAVAILABLE, `internal-error` = 500 INTERNAL, `ok` = no fault.
   */
  sequence?: Array<GcpInjectedFault | 'ok'>;
  /**
   * 0..1: right after serving a getIamPolicy, another writer adds a member to some other role binding and the etag
   * changes, so the caller's following setIamPolicy with the etag it just read gets 409 ABORTED.
   */
  concurrentWriterRate?: number;
  /** Restrict rate-limit / 5xx injection (and the sequence) to these methods, e.g. `['setIamPolicy']`. */
  methods?: string[];
  /** Reseed the fault RNG when these faults are installed (default: the emulator's `seed` option). */
  seed?: number;
}

export type GcpInjectedFault = 'rate-limit' | 'server-error' | 'internal-error';

/** Holds the current faults and a seeded RNG; every decision is a pure function of seed + request order. */
export class GcpFaultInjector {
  #faults: GcpFaults = {};
  #sequence: Array<GcpInjectedFault | 'ok'> = [];
  #dice: SeededRoller;

  constructor(private readonly defaultSeed: number) {
    this.#dice = new SeededRoller(defaultSeed);
  }

  set(faults: GcpFaults): void {
    this.#faults = { ...faults };
    this.#sequence = [...(faults.sequence ?? [])];
    // Reseeding on every install makes a scenario reproducible regardless of earlier traffic.
    this.#dice.reseed(faults.seed ?? this.defaultSeed);
  }

  get latencyMs(): number {
    return Math.max(0, this.#faults.latencyMs ?? 0);
  }

  /** Decides whether this request is answered by an injected 429 / 5xx instead of the real operation. */
  pick(method: string): GcpInjectedFault | undefined {
    const { methods } = this.#faults;
    if (methods !== undefined && !methods.includes(method)) return undefined;
    const scripted = this.#sequence.shift();
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    if (this.#dice.roll(this.#faults.rateLimitRate)) return 'rate-limit';
    if (this.#dice.roll(this.#faults.serverErrorRate)) return 'server-error';
    return undefined;
  }

  /** Whether another writer races the caller right after this getIamPolicy. */
  concurrentWrite(): boolean {
    return this.#dice.roll(this.#faults.concurrentWriterRate);
  }
}
