/** `npm test` runs the reliability suites at a bounded size; `npm run test:stress` (STRESS=1) at full size. */
const STRESS = process.env.STRESS === '1';

export function scaled(full: number, bounded: number): number {
  return STRESS ? full : bounded;
}

/** Runs tasks with at most `limit` in flight, as parallel deliveries would arrive. */
export async function inWaves<T>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += limit) {
    await Promise.all(items.slice(i, i + limit).map((item, j) => run(item, i + j)));
  }
}
