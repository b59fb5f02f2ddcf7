/**
 * When an invocation's work must be done by, read through an injected clock. A pure value: no timers, so the core
 * can ask "is there time to start this?" and "how long may this wait be?" and tests can drive it with a fake clock.
 * The edges make it from what the platform says (Lambda's remaining time, the configured timeout elsewhere).
 */
export class Deadline {
  private constructor(
    /** Epoch ms; Infinity for no deadline. */
    readonly at: number,
    private readonly now: () => number,
  ) {}

  /** Ends `ms` from now. */
  static in(ms: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + Math.max(0, ms), now);
  }

  /** Never ends: work outside an invocation (the CLI, tests) runs to completion. */
  static none(now: () => number = Date.now): Deadline {
    return new Deadline(Number.POSITIVE_INFINITY, now);
  }

  remainingMs(): number {
    return Math.max(0, this.at - this.now());
  }

  /** No time left, or less than `neededMs` (what the next step takes at least). */
  expired(neededMs = 0): boolean {
    return this.remainingMs() <= neededMs;
  }

  /** A wait of `ms`, shortened so it ends by the deadline. */
  cap(ms: number): number {
    return Math.max(0, Math.min(ms, this.remainingMs()));
  }

  /** The same clock, `ms` earlier: room kept for what must happen after the work (reporting, answering). */
  earlier(ms: number): Deadline {
    return new Deadline(this.at - Math.max(0, ms), this.now);
  }
}
