import { createRng } from './rng';
import { rationale, SCORE_NAMES, scorePool, uncertainty } from './strategies';

const LABELS = ['ABBR', 'DESC', 'ENTY', 'HUM'];

describe('uncertainty', () => {
  it('is 0 for a one-hot distribution', () => {
    for (const name of ['least_confidence', 'margin', 'entropy'] as const) {
      expect(uncertainty(name, [0, 1, 0, 0])).toBeCloseTo(0, 10);
    }
  });

  it('is maximal for a uniform distribution', () => {
    const u = [0.25, 0.25, 0.25, 0.25];
    expect(uncertainty('least_confidence', u)).toBeCloseTo(0.75, 6);
    expect(uncertainty('margin', u)).toBeCloseTo(1, 6);
    expect(uncertainty('entropy', u)).toBeCloseTo(1, 6);
  });

  it('computes the textbook values', () => {
    const p = [0.5, 0.3, 0.2, 0];
    expect(uncertainty('least_confidence', p)).toBeCloseTo(0.5, 6);
    expect(uncertainty('margin', p)).toBeCloseTo(0.8, 6);
    const h = -(0.5 * Math.log(0.5) + 0.3 * Math.log(0.3) + 0.2 * Math.log(0.2)) / Math.log(4);
    expect(uncertainty('entropy', p)).toBeCloseTo(h, 6);
  });

  it('treats a tie at the top as a zero margin', () => {
    expect(uncertainty('margin', [0.4, 0.1, 0.4, 0.1])).toBeCloseTo(1, 6);
    expect(uncertainty('margin', Float32Array.from([0.1, 0.45, 0.45, 0]))).toBeCloseTo(1, 6);
  });

  it('orders a confident prediction below an unsure one', () => {
    for (const name of ['least_confidence', 'margin', 'entropy'] as const) {
      expect(uncertainty(name, [0.9, 0.05, 0.05, 0])).toBeLessThan(uncertainty(name, [0.4, 0.35, 0.25, 0]));
    }
  });

  it('draws random scores from the given rng only', () => {
    const a = uncertainty('random', [1, 0], createRng(5));
    expect(uncertainty('random', [1, 0], createRng(5))).toBe(a);
    expect(() => uncertainty('random', [1, 0])).toThrow(TypeError);
  });
});

describe('rationale', () => {
  it('explains each strategy in one line', () => {
    const p = [0.05, 0.41, 0.38, 0.16];
    expect(rationale('margin', p, LABELS)).toBe('model torn between DESC (0.41) and ENTY (0.38)');
    expect(rationale('least_confidence', [0.2, 0.34, 0.3, 0.16], LABELS)).toBe('least confident: top label DESC at 0.34');
    expect(rationale('random', p, LABELS)).toBe('random baseline');
    expect(rationale('entropy', p, LABELS)).toMatch(/^high entropy 0\.\d\d over 4 labels, top DESC \(0\.41\)$/);
    for (const name of SCORE_NAMES) expect(rationale(name, p, LABELS)).not.toContain('\n');
  });
});

describe('scorePool', () => {
  it('scores each row of a probability matrix', () => {
    const probs = Float32Array.from([1, 0, 0.5, 0.5, 0.8, 0.2]);
    const scores = scorePool('margin', probs, 2);
    expect(Array.from(scores, (s) => +s.toFixed(4))).toEqual([0, 1, 0.4]);
    expect(() => scorePool('margin', probs, 4)).toThrow(RangeError);
  });

  it('gives random scores reproducibly from a seed', () => {
    const probs = new Float32Array(20).fill(0.5);
    expect(scorePool('random', probs, 2, createRng(9))).toEqual(scorePool('random', probs, 2, createRng(9)));
  });
});
