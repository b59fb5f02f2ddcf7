/**
 * When an entry this tool owns was first seen stale, across sweeps: with `pruneGraceMinutes`, prune removes an entry
 * only once it has been stale on sweeps at least that far apart, without a sweep in between that found it in use.
 * One consistent sweep (two whole lists around the target reads) already rules out the known races; the grace is
 * the belt to those braces, for a platform API that answers a consistent but wrong list for a while.
 */
export interface StaleMarks {
  /**
   * Records that these entries (`<kind>|<target>|<owner>`) are stale at `now`, and answers since when each has been
   * stale without a break. A mark not seen again within MAX_STALE_GAP_MS starts over.
   */
  observe(keys: readonly string[], now: number): Promise<ReadonlyMap<string, number>>;
}

/** A mark older than this (three hourly sweeps) without being seen again is not a run of stale sweeps any more. */
export const MAX_STALE_GAP_MS = 3 * 3600_000;

/** The one rule both stores follow: continue a run of stale sightings, or start one. */
export function nextMark(previous: { firstSeen: number; lastSeen: number } | undefined, now: number) {
  const continues = previous !== undefined && now - previous.lastSeen <= MAX_STALE_GAP_MS && previous.firstSeen <= now;
  return { firstSeen: continues ? previous.firstSeen : now, lastSeen: now };
}

/** In memory, for tests and the CLI: marks live as long as the process. */
export function memoryStaleMarks(): StaleMarks {
  const marks = new Map<string, { firstSeen: number; lastSeen: number }>();
  return {
    async observe(keys, now) {
      const since = new Map<string, number>();
      for (const key of keys) {
        const mark = nextMark(marks.get(key), now);
        marks.set(key, mark);
        since.set(key, mark.firstSeen);
      }
      return since;
    },
  };
}
