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

/** mulberry32: tiny, fast, and fully determined by its seed, so fault sequences replay identically. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Holds the current faults and a seeded RNG; every decision is a pure function of seed + request order. */
export class GcpFaultInjector {
  #faults: GcpFaults = {};
  #sequence: Array<GcpInjectedFault | 'ok'> = [];
  #random: () => number;

  constructor(private readonly defaultSeed: number) {
    this.#random = mulberry32(defaultSeed);
  }

  set(faults: GcpFaults): void {
    this.#faults = { ...faults };
    this.#sequence = [...(faults.sequence ?? [])];
    // Reseeding on every install makes a scenario reproducible regardless of earlier traffic.
    this.#random = mulberry32(faults.seed ?? this.defaultSeed);
  }

  get latencyMs(): number {
    return Math.max(0, this.#faults.latencyMs ?? 0);
  }

  /** Rate 0 never draws from the RNG and rate 1 always fires, so simple scripted scenarios need no seed. */
  #roll(rate: number | undefined): boolean {
    if (rate === undefined || rate <= 0) return false;
    if (rate >= 1) return true;
    return this.#random() < rate;
  }

  /** Decides whether this request is answered by an injected 429 / 5xx instead of the real operation. */
  pick(method: string): GcpInjectedFault | undefined {
    const { methods } = this.#faults;
    if (methods !== undefined && !methods.includes(method)) return undefined;
    const scripted = this.#sequence.shift();
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    if (this.#roll(this.#faults.rateLimitRate)) return 'rate-limit';
    if (this.#roll(this.#faults.serverErrorRate)) return 'server-error';
    return undefined;
  }

  /** Whether another writer races the caller right after this getIamPolicy. */
  concurrentWrite(): boolean {
    return this.#roll(this.#faults.concurrentWriterRate);
  }
}
