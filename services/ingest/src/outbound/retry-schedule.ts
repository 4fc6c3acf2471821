/** How much each delay varies either way, so receivers that failed together are not retried in step. */
export const JITTER = 0.2;

/**
 * The delay before the attempt at `step` (0: the first) of a delivery on `schedule`, with jitter
 * drawn from `random` (0..1), or null when the schedule has run out: the delivery is a dead letter.
 */
export function delayBefore(schedule: readonly number[], step: number, random: () => number = Math.random): number | null {
  const base = schedule[step];
  if (base === undefined) return null;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
