import { describe, expect, it } from 'vitest';
import { ReplayGuard } from '../../shared/intake/replay-guard.ts';

describe('ReplayGuard', () => {
  it('knows an id only after it was remembered, and forgets it after the window', async () => {
    // The cache reads its own clock, so this waits for real (30 ms) instead of faking timers.
    const guard = new ReplayGuard({ ttlMs: 30 });
    expect(guard.isReplay('msg_1')).toBe(false);
    guard.remember('msg_1');
    expect(guard.isReplay('msg_1')).toBe(true);
    expect(guard.isReplay('msg_2')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(guard.isReplay('msg_1')).toBe(false);
  });

  it('stays bounded in memory: at most twice its size, the newest always kept', () => {
    const guard = new ReplayGuard({ max: 3 });
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`);
    for (const id of ids) guard.remember(id);
    const kept = ids.filter((id) => guard.isReplay(id));
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(kept).toEqual(expect.arrayContaining(['id-17', 'id-18', 'id-19']));
    expect(guard.isReplay('id-0')).toBe(false);
  });
});
