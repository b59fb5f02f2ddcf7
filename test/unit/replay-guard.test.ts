import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../shared/intake/replay-guard.ts';

describe('ReplayGuard', () => {
  it('knows an id only after it was remembered, and forgets it after the window', async () => {
    // lru-cache reads its own clock, so this waits for real (30 ms) instead of faking timers.
    const guard = new ReplayGuard({ ttlMs: 30 });
    expect(guard.isReplay('msg_1')).toBe(false);
    guard.remember('msg_1');
    expect(guard.isReplay('msg_1')).toBe(true);
    expect(guard.isReplay('msg_2')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(guard.isReplay('msg_1')).toBe(false);
  });

  it('stays bounded in memory', () => {
    const guard = new ReplayGuard({ max: 3 });
    for (const id of ['a', 'b', 'c', 'd']) guard.remember(id);
    expect(['a', 'b', 'c', 'd'].map((id) => guard.isReplay(id))).toEqual([false, true, true, true]);
  });
});
