import { createRng, drawKey, normal, permutation } from './rng';

describe('createRng', () => {
  it('repeats a sequence for a seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
  });

  it('draws uniformly from [0, 1)', () => {
    const rng = createRng(7);
    const draws = Array.from({ length: 20_000 }, rng);
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeCloseTo(0.5, 1);
  });
});

describe('permutation', () => {
  it('holds every index once, in a seeded order', () => {
    const p = permutation(1000, createRng(1));
    expect([...p].sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);
    expect([...p]).not.toEqual([...Array(1000).keys()]);
    expect(permutation(1000, createRng(1))).toEqual(p);
  });
});

describe('normal', () => {
  it('has mean 0 and variance 1', () => {
    const rng = createRng(3);
    const xs = Array.from({ length: 20_000 }, () => normal(rng));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
  });
});

describe('drawKey', () => {
  it('is a fixed uniform key per (seed, id): same inputs, same key; other seed, other order', () => {
    const keys = Array.from({ length: 20_000 }, (_, id) => drawKey(7, id));
    expect(keys.every((k) => k >= 0 && k < 1)).toBe(true);
    expect(drawKey(7, 123)).toBe(keys[123]);
    // Uniform: each tenth of [0, 1) holds about a tenth of the keys.
    const deciles = new Array<number>(10).fill(0);
    for (const k of keys) deciles[Math.floor(k * 10)]++;
    for (const count of deciles) expect(Math.abs(count - 2000)).toBeLessThan(200);
    // Neighbouring ids are not ordered alike, and another seed gives another order.
    const rank = (seed: number) => Array.from({ length: 200 }, (_, id) => id).sort((a, b) => drawKey(seed, a) - drawKey(seed, b));
    expect(rank(7)).not.toEqual(Array.from({ length: 200 }, (_, id) => id));
    expect(rank(8)).not.toEqual(rank(7));
    // Ids beyond 2^32 (bigint item ids) still spread.
    expect(drawKey(7, 2 ** 32 + 5)).not.toBe(drawKey(7, 5));
  });
});
