import QuickLRU from 'quick-lru';

/**
 * Remembers the webhook ids this instance has accepted during the signature tolerance (5 minutes). A replayed request
 * (an attacker's copy or a sender's retry) is acknowledged as a duplicate and not processed again. It is an
 * optimization, not the safety net: another instance may still see the copy, and processing it again writes nothing
 * because a converged target costs one read.
 */
export class ReplayGuard {
  private readonly seen: QuickLRU<string, true>;

  constructor(options: { ttlMs?: number; max?: number } = {}) {
    // Timestamps up to 5 minutes in the future are accepted too, so an id must be remembered for twice the tolerance.
    // quick-lru keeps between max and 2 x max ids (it drops a whole generation at a time): bounded either way.
    this.seen = new QuickLRU({ maxSize: options.max ?? 10_000, maxAge: options.ttlMs ?? 10 * 60_000 });
  }

  /** An id already handled successfully within the window. */
  isReplay(id: string): boolean {
    return this.seen.has(id);
  }

  /**
   * Records an id once its event was handled successfully; a request that failed is not remembered, so the sender's
   * retry with the same id is processed again.
   */
  remember(id: string): void {
    this.seen.set(id, true);
  }
}
