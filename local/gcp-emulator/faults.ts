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
  /** The next this many getIamPolicy answers are each followed by such a writer, before the rate applies. */
  concurrentWrites?: number;
  /** Restrict rate-limit / 5xx injection (and the sequence) to these methods, e.g. `['setIamPolicy']`. */
  methods?: string[];
  /**
   * Restrict rate-limit / 5xx injection, the sequence and the concurrent writer to these APIs (default: all), e.g.
   * `['cloudresourcemanager']` to fault project policies while service-account calls go through.
   */
  services?: GcpService[];
  /**
   * Accept and never answer: matching requests are read, logged with status 0 and left open without a reply (the
   * operation is not performed) until the client gives up or the emulator closes. `true`: every request; a list:
   * only these methods (e.g. `['getIamPolicy']`; `access` is a Secret Manager read).
   */
  hang?: true | string[];
  /** Reseed the fault RNG when these faults are installed (default: the emulator's `seed` option). */
  seed?: number;
  /**
   * Enforce IAM's write quota: a setIamPolicy beyond this many in the last 60 s of one API (IAM, Resource Manager)
   * answers 429 RESOURCE_EXHAUSTED, as Google does per consumer project (the caller's: this emulator has one). Only
   * admitted writes count. Google's default is 600; unset: no quota.
   */
  writeQuotaPerMinute?: number;
}

export type GcpInjectedFault = 'rate-limit' | 'server-error' | 'internal-error';

/** The APIs the emulator serves: IAM (service accounts), Resource Manager (projects), Secret Manager. */
export type GcpService = 'iam' | 'cloudresourcemanager' | 'secretmanager';

const QUOTA_WINDOW_MS = 60_000;

/**
 * Holds the current faults and a seeded RNG; every decision is a pure function of seed + request order (and, for
 * the write quota, of the clock).
 */
export class GcpFaultInjector {
  #faults: GcpFaults = {};
  #sequence: Array<GcpInjectedFault | 'ok'> = [];
  #racers = 0;
  #dice: SeededRoller;
  /** Times of the admitted writes of each API within the quota window. */
  #writes = new Map<GcpService, number[]>();

  constructor(
    private readonly defaultSeed: number,
    private readonly clock: { now(): number } = Date,
  ) {
    this.#dice = new SeededRoller(defaultSeed);
  }

  set(faults: GcpFaults): void {
    this.#faults = { ...faults };
    this.#sequence = [...(faults.sequence ?? [])];
    this.#racers = Math.max(0, faults.concurrentWrites ?? 0);
    // Reseeding on every install makes a scenario reproducible regardless of earlier traffic.
    this.#dice.reseed(faults.seed ?? this.defaultSeed);
    this.#writes.clear();
  }

  get latencyMs(): number {
    return Math.max(0, this.#faults.latencyMs ?? 0);
  }

  /** Whether this request is left without an answer (see `GcpFaults.hang`). */
  hangs(method: string): boolean {
    const { hang } = this.#faults;
    return hang === true || hang?.includes(method) === true;
  }

  /** Decides whether this request is answered by an injected 429 / 5xx instead of the real operation. */
  pick(method: string, service: GcpService): GcpInjectedFault | undefined {
    if (method === 'setIamPolicy' && this.#overQuota(service)) return 'rate-limit';
    const { methods, services } = this.#faults;
    if (methods !== undefined && !methods.includes(method)) return undefined;
    if (services !== undefined && !services.includes(service)) return undefined;
    const scripted = this.#sequence.shift();
    if (scripted !== undefined) return scripted === 'ok' ? undefined : scripted;
    if (this.#dice.roll(this.#faults.rateLimitRate)) return 'rate-limit';
    if (this.#dice.roll(this.#faults.serverErrorRate)) return 'server-error';
    return undefined;
  }

  /** Whether one more write of this API now would exceed the write quota; if not, it is counted. */
  #overQuota(service: GcpService): boolean {
    const quota = this.#faults.writeQuotaPerMinute;
    if (quota === undefined) return false;
    const now = this.clock.now();
    const recent = (this.#writes.get(service) ?? []).filter((at) => now - at < QUOTA_WINDOW_MS);
    const over = recent.length >= quota;
    if (!over) recent.push(now);
    this.#writes.set(service, recent);
    return over;
  }

  /** Whether another writer races the caller right after this getIamPolicy. */
  concurrentWrite(service: GcpService): boolean {
    const { services } = this.#faults;
    if (services !== undefined && !services.includes(service)) return false;
    if (this.#racers > 0) {
      this.#racers -= 1;
      return true;
    }
    return this.#dice.roll(this.#faults.concurrentWriterRate);
  }
}
