/**
 * The emulators' fault dice: mulberry32 (tiny, fully determined by its seed) so a fault scenario replays identically,
 * and a roll where rate 0 never draws and rate 1 always fires, so scripted scenarios need no seed at all.
 */
export class SeededRoller {
  #state = 0;

  constructor(seed: number) {
    this.reseed(seed);
  }

  reseed(seed: number): void {
    this.#state = seed >>> 0;
  }

  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  roll(rate: number | undefined): boolean {
    if (rate === undefined || rate <= 0) return false;
    if (rate >= 1) return true;
    return this.next() < rate;
  }
}
