import { describe, expect, it } from 'vitest';
import { MAX_STALE_GAP_MS, memoryStaleMarks, nextMark } from '../../shared/reconcile/stale-marks.ts';

describe('stale marks: a run of stale sweeps without a break', () => {
  const H = 3600_000;
  it.each([
    ['first sighting', undefined, 10 * H, 10 * H],
    ['seen an hour ago: the run continues', { firstSeen: 8 * H, lastSeen: 9 * H }, 10 * H, 8 * H],
    ['seen just within the gap', { firstSeen: 5 * H, lastSeen: 10 * H - MAX_STALE_GAP_MS }, 10 * H, 5 * H],
    ['seen longer ago than the gap: starts over', { firstSeen: 1 * H, lastSeen: 6 * H }, 10 * H, 10 * H],
    ['a mark from the future (clock skew): starts over', { firstSeen: 11 * H, lastSeen: 11 * H }, 10 * H, 10 * H],
  ])('%s', (_what, previous, now, firstSeen) => {
    expect(nextMark(previous, now)).toEqual({ firstSeen, lastSeen: now });
  });

  it('remembers per key in memory', async () => {
    const marks = memoryStaleMarks();
    expect([...(await marks.observe(['a'], 1000))]).toEqual([['a', 1000]]);
    expect([...(await marks.observe(['a', 'b'], 2000))]).toEqual([
      ['a', 1000],
      ['b', 2000],
    ]);
  });
});
