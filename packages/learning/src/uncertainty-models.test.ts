import { createRng } from './rng';
import { badgeEmbeddings, baldScores } from './uncertainty-models';

describe('badgeEmbeddings', () => {
  it('is (p - onehot(argmax)) outer x', () => {
    const g = badgeEmbeddings(Float32Array.from([0.7, 0.3]), 2, Float32Array.from([1, 2]), 2);
    expect(Array.from(g, (v) => +v.toFixed(4))).toEqual([-0.3, -0.6, 0.3, 0.6]);
  });

  it('is zero for a confident prediction', () => {
    const g = badgeEmbeddings(Float32Array.from([1, 0]), 2, Float32Array.from([3, 4]), 2);
    expect(Array.from(g).every((v) => v === 0)).toBe(true);
  });
});

describe('baldScores', () => {
  const weights = Float32Array.from([5, -5, -5, 5]); // dim 2 x 2 classes
  const bias = new Float32Array(2);

  it('is 0 without dropout and for a zero representation', () => {
    const s0 = baldScores(Float32Array.from([1, 0.2]), 2, weights, bias, 10, 0, createRng(1));
    expect(s0[0]).toBeCloseTo(0, 6);
    const zero = baldScores(Float32Array.from([0, 0]), 2, weights, bias, 10, 0.5, createRng(1));
    expect(zero[0]).toBeCloseTo(0, 6);
  });

  it('is higher where dropout flips the prediction, and seeded', () => {
    // Item 0 leans on two features that disagree: dropping one flips it. Item 1 on one feature.
    const emb = Float32Array.from([1, 0.9, 1, 0]);
    const s = baldScores(emb, 2, weights, bias, 50, 0.5, createRng(2));
    expect(s[0]).toBeGreaterThan(s[1]);
    expect(baldScores(emb, 2, weights, bias, 50, 0.5, createRng(2))).toEqual(s);
  });
});
