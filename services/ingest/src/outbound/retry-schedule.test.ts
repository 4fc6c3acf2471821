import { delayBefore } from './retry-schedule';

describe('retry schedule', () => {
  const schedule = [0, 5_000, 300_000];
  it('gives each step its delay, jittered by up to 20% either way, and null past the end', () => {
    expect(delayBefore(schedule, 0, () => 0)).toBe(0);
    expect(delayBefore(schedule, 1, () => 0.5)).toBe(5_000);
    expect(delayBefore(schedule, 1, () => 0)).toBe(4_000);
    expect(delayBefore(schedule, 2, () => 1)).toBe(360_000);
    expect(delayBefore(schedule, 3, () => 0.5)).toBeNull();
  });
});
