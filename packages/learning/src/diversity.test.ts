import { denseKMeans, kCenterGreedy, kMeansPlusPlus, sqDist, type DenseRows } from './diversity';
import { createRng } from './rng';

const rows = (points: number[][]): DenseRows => ({ data: Float32Array.from(points.flat()), dim: points[0]!.length });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('sqDist', () => {
  it('is the squared Euclidean distance between rows', () => {
    const r = rows([[0, 0], [3, 4]]);
    expect(sqDist(r, 0, r, 1)).toBe(25);
    expect(sqDist(r, 1, r, 1)).toBe(0);
  });
});

describe('kCenterGreedy', () => {
  it('takes the farthest point next and never a duplicate while others are left', () => {
    const r = rows([[0, 0], [0, 0], [0, 0], [10, 0], [0, 5]]);
    const { picks, distances } = kCenterGreedy(r, range(5), 3, { first: 0 });
    expect(picks).toEqual([0, 3, 4]);
    expect(distances.slice(1)).toEqual([10, 5]);
  });

  it('measures from the reference rows (core-set) and picks the most uncovered point first', () => {
    const r = rows([[1, 0], [9, 0], [20, 0]]);
    const reference = rows([[0, 0], [10, 0]]);
    const { picks, distances } = kCenterGreedy(r, range(3), 2, { reference });
    expect(picks).toEqual([2, 0]);
    expect(distances).toEqual([10, 1]);
  });

  it('weights distance by uncertainty when weights are given', () => {
    const r = rows([[0, 0], [10, 0], [4, 0]]);
    // Point 1 is farther, but point 2 is much more uncertain: 0.9 x 4 > 0.1 x 10.
    expect(kCenterGreedy(r, range(3), 2, { weights: [1, 0.1, 0.9], first: 0 }).picks).toEqual([0, 2]);
  });

  it('handles empty candidates and a take larger than the pool', () => {
    const r = rows([[1, 1]]);
    expect(kCenterGreedy(r, [], 3).picks).toEqual([]);
    expect(kCenterGreedy(r, [0], 3).picks).toEqual([0]);
  });
});

describe('kMeansPlusPlus', () => {
  it('never picks a duplicate of a pick while a distinct point remains, and is seeded', () => {
    const r = rows([[0, 0], [0, 0], [0, 0], [0, 0], [5, 5]]);
    for (let seed = 1; seed <= 20; seed++) {
      const picks = kMeansPlusPlus(r, range(5), 2, createRng(seed));
      expect(new Set(picks.map((p) => (p === 4 ? 'far' : 'origin')))).toEqual(new Set(['far', 'origin']));
    }
    expect(kMeansPlusPlus(r, range(5), 3, createRng(3))).toEqual(kMeansPlusPlus(r, range(5), 3, createRng(3)));
  });

  it('returns every candidate once when asked for all of them, duplicates included', () => {
    const r = rows([[1, 1], [1, 1], [1, 1]]);
    expect(kMeansPlusPlus(r, range(3), 3, createRng(1)).sort()).toEqual([0, 1, 2]);
  });
});

describe('denseKMeans', () => {
  it('finds well separated clusters and their medoids', () => {
    const points = [[0, 0], [0.1, 0], [0, 0.1], [10, 10], [10.1, 10], [10, 10.2], [10.05, 10.05]];
    const c = denseKMeans(rows(points), range(points.length), 2, createRng(4));
    expect(c.assign[0]).toBe(c.assign[1]);
    expect(c.assign[3]).toBe(c.assign[6]);
    expect(c.assign[0]).not.toBe(c.assign[3]);
    expect([...c.sizes].sort()).toEqual([3, 4]);
    expect(c.medoids[c.assign[3]]).toBe(6);
  });

  it('caps k at the number of candidates', () => {
    const c = denseKMeans(rows([[1], [2]]), [0, 1], 5, createRng(1));
    expect(c.k).toBe(2);
  });
});
