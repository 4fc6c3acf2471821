import {
  budgetReached,
  classificationChange,
  cohenKappa,
  DEFAULT_STOPPING_OPTIONS,
  overallUncertainty,
  recommendStop,
  stabilizingPredictions,
  withCurrentBudget,
  type StopSetPredictions,
} from './stopping';

/** A stop set of 200 items over 3 classes, and a copy with `flips` items moved to another class. */
const BASE = Array.from({ length: 200 }, (_, i) => i % 3);
const flipped = (flips: number) => BASE.map((c, i) => (i < flips ? (c + 1) % 3 : c));
const model = (labels: number, predictions: readonly number[] = BASE, version?: number): StopSetPredictions => ({ labels, predictions, version });

describe('cohenKappa', () => {
  it('matches hand-computed values', () => {
    // p_o = 3/4; marginals (1/2, 1/2) and (1/4, 3/4): p_e = 1/2; kappa = (3/4 - 1/2) / (1/2).
    expect(cohenKappa([0, 0, 1, 1], [0, 1, 1, 1], 2)).toBeCloseTo(0.5, 12);
    // Agreement exactly at chance level.
    expect(cohenKappa([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1], 3)).toBeCloseTo(0, 12);
    // Systematic disagreement is below chance.
    expect(cohenKappa([0, 1, 0, 1], [1, 0, 1, 0], 2)).toBeCloseTo(-1, 12);
  });

  it('is 1 for identical labelings, one class included, and takes typed arrays', () => {
    expect(cohenKappa(BASE, [...BASE], 3)).toBe(1);
    expect(cohenKappa(Int32Array.from(BASE), Int32Array.from(BASE), 3)).toBe(1);
    // Everything in one class: chance agreement is 1 and the 0/0 is read as full agreement.
    expect(cohenKappa([2, 2, 2], [2, 2, 2], 3)).toBe(1);
    expect(cohenKappa([0, 0], [0, 0], 1)).toBe(1);
  });

  it('is NaN for nothing to compare, and refuses mismatched or out-of-range input', () => {
    expect(cohenKappa([], [], 2)).toBeNaN();
    expect(() => cohenKappa([0, 1], [0], 2)).toThrow(RangeError);
    expect(() => cohenKappa([0, 2], [0, 1], 2)).toThrow(RangeError);
    expect(() => cohenKappa([0, -1], [0, 1], 2)).toThrow(RangeError);
    expect(() => cohenKappa([0, 0.5], [0, 1], 2)).toThrow(RangeError);
    expect(() => cohenKappa([0], [0], 0)).toThrow(RangeError);
  });
});

describe('classificationChange', () => {
  it('is the fraction of positions whose label changed', () => {
    expect(classificationChange(BASE, flipped(10))).toBeCloseTo(0.05, 12);
    expect(classificationChange(BASE, BASE)).toBe(0);
    expect(classificationChange([], [])).toBeNaN();
    expect(() => classificationChange([0], [0, 1])).toThrow(RangeError);
  });
});

describe('overallUncertainty', () => {
  it('is the mean normalised entropy of the rows', () => {
    expect(overallUncertainty([1, 0, 0, 0, 1, 0], 3)).toBeCloseTo(0, 12);
    expect(overallUncertainty(Float32Array.from([0.25, 0.25, 0.25, 0.25]), 4)).toBeCloseTo(1, 6);
    // One certain row and one coin flip over two classes: (0 + 1) / 2.
    expect(overallUncertainty([1, 0, 0.5, 0.5], 2)).toBeCloseTo(0.5, 6);
    expect(overallUncertainty([], 2)).toBeNaN();
    expect(() => overallUncertainty([0.5, 0.5, 1], 2)).toThrow(RangeError);
  });
});

describe('budgetReached', () => {
  it('is met at or past the budget, never without one', () => {
    expect(budgetReached(99, 100)).toBe(false);
    expect(budgetReached(100, 100)).toBe(true);
    expect(budgetReached(150, 100)).toBe(true);
    expect(budgetReached(1_000_000, null)).toBe(false);
  });
});

describe('stabilizingPredictions', () => {
  const opts = { kappa: 0.99, window: 3, minLabels: 200 };

  it('is not met with fewer than window successive pairs', () => {
    for (const count of [0, 1, 2, 3]) {
      const history = [200, 220, 240].slice(0, count).map((n) => model(n));
      const result = stabilizingPredictions(history, 3, opts);
      expect(result).toMatchObject({ met: false, minKappa: null, meanKappa: null });
      expect(result.kappas).toHaveLength(Math.max(0, count - 1));
    }
  });

  it('is met when each of the last window pairs agrees and the window starts at the minimum', () => {
    const result = stabilizingPredictions([100, 200, 220, 240, 260].map((n) => model(n)), 3, opts);
    expect(result).toMatchObject({ met: true, kappas: [1, 1, 1], minKappa: 1, meanKappa: 1, windowStartLabels: 200 });
    expect(result.models.map((m) => m.labels)).toEqual([200, 220, 240, 260]);
  });

  it('counts only windows that start at the minimum number of labels', () => {
    // Identical predictions from the start: stable, but the window's oldest model saw 180 labels.
    const history = [180, 200, 220, 240].map((n) => model(n));
    expect(stabilizingPredictions(history, 3, opts)).toMatchObject({ met: false, minKappa: 1, windowStartLabels: 180 });
    expect(stabilizingPredictions([...history, model(260)], 3, opts)).toMatchObject({ met: true, windowStartLabels: 200 });
  });

  it('needs every pair of the window, not only their mean, to reach the threshold', () => {
    // 2 of 200 flipped over 3 balanced classes: kappa about 0.985, under 0.99; the mean with two 1s is above.
    const history = [model(200), model(220, flipped(2)), model(240, flipped(2)), model(260, flipped(2))];
    const result = stabilizingPredictions(history, 3, opts);
    expect(result.kappas[0]).toBeLessThan(0.99);
    expect(result.meanKappa).toBeGreaterThan(0.99);
    expect(result.met).toBe(false);
    // One more stable pair pushes the unstable one out of the window.
    expect(stabilizingPredictions([...history, model(280, flipped(2))], 3, opts).met).toBe(true);
  });

  it('does not count a retrain on the same labels as a new check', () => {
    // Same labels, same predictions: three "pairs" that say nothing.
    const history = [model(200), model(220, flipped(40)), model(220, flipped(40)), model(220, flipped(40))];
    const result = stabilizingPredictions(history, 3, opts);
    expect(result.kappas).toHaveLength(1);
    expect(result.met).toBe(false);
  });

  it('is never met on an empty stop set', () => {
    const history = [200, 220, 240, 260].map((n) => model(n, []));
    expect(stabilizingPredictions(history, 3, opts).met).toBe(false);
  });

  it('works on a one-class stop set (every model predicts the same class)', () => {
    const history = [200, 220, 240, 260].map((n) => model(n, [1, 1, 1, 1]));
    expect(stabilizingPredictions(history, 3, opts)).toMatchObject({ met: true, minKappa: 1 });
  });

  it('refuses a window that is not a positive integer', () => {
    expect(() => stabilizingPredictions([], 3, { ...opts, window: 0 })).toThrow(RangeError);
  });
});

describe('recommendStop', () => {
  const names = ['stabilizing_predictions', 'min_labels', 'budget', 'overall_uncertainty', 'classification_change'];
  const byName = <T extends { name: string }>(criteria: T[], name: string): T => criteria.find((c) => c.name === name)!;

  it('uses the literature defaults', () => {
    expect(DEFAULT_STOPPING_OPTIONS).toEqual({ kappa: 0.99, window: 3, minLabels: 200, uncertainty: 0.05, change: 0 });
  });

  it('recommends nothing before any model, and reports every criterion', () => {
    const result = recommendStop({ numClasses: 3, labelCount: 0, budget: null, history: [], probs: null });
    expect(result.stop_recommended).toBe(false);
    expect(result.criteria.map((c) => c.name)).toEqual(names);
    expect(result.criteria.map((c) => c.decides)).toEqual([true, false, true, false, false]);
    expect(byName(result.criteria, 'stabilizing_predictions')).toMatchObject({ met: false, value: null, threshold: 0.99 });
    expect(byName(result.criteria, 'budget')).toMatchObject({ met: false, value: 0, threshold: null });
    expect(byName(result.criteria, 'overall_uncertainty')).toMatchObject({ met: false, value: null });
    expect(byName(result.criteria, 'classification_change')).toMatchObject({ met: false, value: null });
  });

  it('recommends stopping on a reached budget alone', () => {
    const result = recommendStop({ numClasses: 3, labelCount: 50, budget: 50, history: [model(50)], probs: null });
    expect(result.stop_recommended).toBe(true);
    expect(byName(result.criteria, 'budget')).toMatchObject({ met: true, value: 50, threshold: 50, detail: '50 of 50 labels spent' });
    expect(byName(result.criteria, 'stabilizing_predictions').met).toBe(false);
  });

  it('recommends stopping on stabilized predictions, with the evidence-only criteria as values', () => {
    const history = [model(200, flipped(20), 3), model(220, BASE, 4), model(240, BASE, 5), model(260, BASE, 6), model(280, BASE, 7)];
    const confident = Float32Array.from(BASE.flatMap((c) => [0, 1, 2].map((k) => (k === c ? 0.995 : 0.0025))));
    const result = recommendStop({ numClasses: 3, labelCount: 285, budget: 1000, history, probs: confident });
    // The pair v3→v4 (20 flips) is outside the window.
    expect(result.stop_recommended).toBe(true);
    const stable = byName(result.criteria, 'stabilizing_predictions');
    expect(stable).toMatchObject({ met: true, value: 1, threshold: 0.99 });
    expect(stable.detail).toMatch(/v4→v5 1\.0000, v5→v6 1\.0000, v6→v7 1\.0000/);
    expect(byName(result.criteria, 'min_labels')).toMatchObject({ met: true, value: 280, threshold: 200 });
    // One step earlier the unstable pair was in the window.
    expect(recommendStop({ numClasses: 3, labelCount: 265, budget: 1000, history: history.slice(0, 4), probs: confident }).stop_recommended).toBe(false);
    expect(byName(result.criteria, 'classification_change')).toMatchObject({ met: true, value: 0, threshold: 0 });
    const u = byName(result.criteria, 'overall_uncertainty');
    expect(u.met).toBe(true);
    expect(u.value).toBeGreaterThan(0);
    expect(u.value).toBeLessThan(0.05);
  });

  it('takes option overrides and reports change against the previous distinct model', () => {
    const history = [model(100), model(150, flipped(10))];
    const result = recommendStop({ numClasses: 3, labelCount: 150, budget: null, history, probs: null }, { window: 1, minLabels: 100, kappa: 0.9 });
    expect(byName(result.criteria, 'classification_change').value).toBeCloseTo(0.05, 4);
    expect(result.stop_recommended).toBe(true);
    expect(recommendStop({ numClasses: 3, labelCount: 150, budget: null, history, probs: null }, { window: 1, minLabels: 100 }).stop_recommended).toBe(false);
  });
});

describe('withCurrentBudget', () => {
  it('recomputes the budget criterion and the recommendation, keeping the model-based ones', () => {
    const judged = recommendStop({ numClasses: 3, labelCount: 40, budget: 100, history: [model(40)], probs: null });
    expect(judged.stop_recommended).toBe(false);
    const now = withCurrentBudget(judged, 120, 100);
    expect(now.stop_recommended).toBe(true);
    expect(now.criteria.find((c) => c.name === 'budget')).toMatchObject({ met: true, value: 120, threshold: 100 });
    expect(now.criteria.filter((c) => c.name !== 'budget')).toEqual(judged.criteria.filter((c) => c.name !== 'budget'));
    expect(withCurrentBudget(now, 120, null).stop_recommended).toBe(false);
  });

  it('adds a missing budget criterion and ignores a stored `decides` that disagrees with the rule', () => {
    const stored = {
      stop_recommended: true,
      criteria: [{ name: 'overall_uncertainty' as const, met: true, value: 0.01, threshold: 0.1, decides: true, detail: '' }],
    };
    const now = withCurrentBudget(stored, 10, 20);
    expect(now.stop_recommended).toBe(false);
    expect(now.criteria.map((c) => [c.name, c.decides])).toEqual([['overall_uncertainty', false], ['budget', true]]);
  });
});
