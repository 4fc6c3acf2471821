import { niceTicks, renderCurveSvg } from '../src/simulate/curve.svg';
import type { CurvePoint, RunResult } from '../src/simulate/simulate.types';
import {
  accuracyAt,
  labelsToReach,
  median,
  medianCurve,
  medianReach,
  normalizedAuc,
  saving,
  summarize,
  worstGap,
} from '../src/simulate/summary.metrics';
import { formatSummaryTable } from '../src/simulate/summary.table';

const curve = (...pairs: [number, number][]): CurvePoint[] => pairs.map(([labels, accuracy]) => ({ labels, accuracy, macro_f1: accuracy }));
const run = (strategy: string, repeat: number, c: CurvePoint[]): RunResult => ({ strategy, repeat, seed: 1 + repeat, curve: c, stop: null, elapsed_ms: 0 });

describe('normalizedAuc', () => {
  it('is the trapezoidal area divided by the label range', () => {
    // (0.5+0.7)/2*100 + (0.7+0.9)/2*100 = 60 + 80 = 140 over 200 labels
    expect(normalizedAuc(curve([100, 0.5], [200, 0.7], [300, 0.9]))).toBeCloseTo(0.7, 12);
  });
  it('weights uneven steps by their width', () => {
    // (0.4+0.6)/2*10 + (0.6+0.6)/2*90 = 5 + 54 = 59 over 100
    expect(normalizedAuc(curve([0, 0.4], [10, 0.6], [100, 0.6]))).toBeCloseTo(0.59, 12);
  });
  it('is the accuracy of a one-point curve and null for none', () => {
    expect(normalizedAuc(curve([25, 0.42]))).toBe(0.42);
    expect(normalizedAuc([])).toBeNull();
  });
});

describe('labelsToReach', () => {
  const c = curve([25, 0.5], [50, 0.8], [75, 0.79], [100, 0.9]);
  it('returns the first label count at or above the target', () => {
    expect(labelsToReach(c, 0.8)).toBe(50);
    expect(labelsToReach(c, 0.85)).toBe(100);
    expect(labelsToReach(c, 0.5)).toBe(25);
  });
  it('is null when the curve never gets there', () => {
    expect(labelsToReach(c, 0.95)).toBeNull();
  });
});

describe('accuracyAt and worstGap', () => {
  const base = curve([0, 0.5], [100, 0.7]);
  it('interpolates linearly and is null outside the range', () => {
    expect(accuracyAt(base, 50)).toBeCloseTo(0.6, 12);
    expect(accuracyAt(base, 100)).toBe(0.7);
    expect(accuracyAt(base, 150)).toBeNull();
  });
  it('is the most negative difference in accuracy points at matching label counts', () => {
    expect(worstGap(curve([0, 0.5], [50, 0.55], [100, 0.75]), base)).toBeCloseTo(-5, 9);
    expect(worstGap(curve([0, 0.6], [100, 0.8]), base)).toBeCloseTo(10, 9);
    expect(worstGap(base, base)).toBe(0);
  });
  it('ignores points the baseline does not cover, null with no overlap', () => {
    expect(worstGap(curve([50, 0.6], [200, 0.1]), base)).toBeCloseTo(0, 9);
    expect(worstGap(curve([200, 0.9]), base)).toBeNull();
  });
});

describe('saving', () => {
  it('is percent fewer labels than random when both reached the target', () => {
    expect(saving(400, 300, 1000)).toEqual({ pct: 25, bound: 'exact' });
    expect(saving(200, 300, 1000)).toEqual({ pct: -50, bound: 'exact' });
  });
  it('is a lower bound when only the strategy got there, an upper one when only random did', () => {
    expect(saving(null, 300, 1000)).toEqual({ pct: 70, bound: 'lower' });
    expect(saving(500, null, 1000)).toEqual({ pct: -100, bound: 'upper' });
    expect(saving(null, null, 1000)).toEqual({ pct: null, bound: 'none' });
  });
});

describe('medians', () => {
  it('median skips nulls and averages the middle pair', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([null, 5])).toBe(5);
    expect(median([])).toBeNull();
  });
  it('medianReach counts a repeat that never got there as infinitely many labels', () => {
    expect(medianReach([100, null, 300])).toBe(300);
    expect(medianReach([100, null, null])).toBeNull();
    expect(medianReach([100, 200, 300, null])).toBe(250);
    expect(medianReach([100, 200, null, null])).toBeNull();
  });
  it('medianCurve gives median, min and max per label count over the curves covering it', () => {
    const band = medianCurve([curve([0, 0.5], [100, 0.7]), curve([0, 0.6], [100, 0.9]), curve([0, 0.1], [50, 0.2])]);
    expect(band.map((p) => p.labels)).toEqual([0, 50, 100]);
    expect(band[0]).toEqual({ labels: 0, median: 0.5, min: 0.1, max: 0.6, n: 3 });
    expect(band[1].median).toBeCloseTo(0.6, 12); // 0.6, 0.75, 0.2
    expect(band[2]).toEqual({ labels: 100, median: 0.8, min: 0.7, max: 0.9, n: 2 });
  });
});

describe('summarize', () => {
  const full = [0, 1].map((repeat) => ({ repeat, seed: 1 + repeat, labels: 1000, accuracy: 0.8, macro_f1: 0.8, train_ms: 0 }));
  const runs = [
    run('random', 0, curve([25, 0.5], [50, 0.6], [75, 0.7], [100, 0.75])),
    run('random', 1, curve([25, 0.5], [50, 0.62], [75, 0.72], [100, 0.77])),
    run('margin', 0, curve([25, 0.5], [50, 0.55], [75, 0.78], [100, 0.8])),
    run('margin', 1, curve([25, 0.5], [50, 0.58], [75, 0.76], [100, 0.79])),
  ];
  const summary = summarize(runs, full, ['random', 'margin']);

  it('takes medians over repeats of per-repeat metrics', () => {
    // 90% of 0.8 = 0.72: random at 100 and 75, margin at 75 in both.
    expect(summary.random.labels_to_reach['90']).toBe(87.5);
    expect(summary.margin.labels_to_reach['90']).toBe(75);
    // 98% = 0.784: random never, margin at 100 and 100 (0.79 >= 0.784).
    expect(summary.random.labels_to_reach['98']).toBeNull();
    expect(summary.margin.labels_to_reach['98']).toBe(100);
    expect(summary.margin.full_accuracy).toBe(0.8);
    expect(summary.margin.final).toEqual({ labels: 100, accuracy: 0.795 });
    expect(summary.margin.repeats).toBe(2);
  });
  it('pairs repeats for the worst gap and compares medians for savings', () => {
    // repeat 0: 50 labels -5 points; repeat 1: -4 points.
    expect(summary.margin.worst_gap_to_random).toBeCloseTo(-4.5, 9);
    expect(summary.random.worst_gap_to_random).toBe(0);
    expect(summary.margin.worst_gap_per_repeat).toBeCloseTo(-4.5, 9);
    expect(summary.margin.saving_vs_random['90'].pct).toBeCloseTo((1 - 75 / 87.5) * 100, 9);
    expect(summary.margin.saving_vs_random['98']).toEqual({ pct: 0, bound: 'lower' });
    expect(summary.random.saving_vs_random['90']).toEqual({ pct: 0, bound: 'exact' });
  });
  it('takes the worst gap at the worst point of the median curve, not the median of per-repeat worst points', () => {
    const paired = summarize(
      [
        run('random', 0, curve([25, 0.5], [50, 0.6], [75, 0.7])),
        run('random', 1, curve([25, 0.5], [50, 0.6], [75, 0.7])),
        run('random', 2, curve([25, 0.5], [50, 0.6], [75, 0.7])),
        run('auto', 0, curve([25, 0.5], [50, 0.55], [75, 0.71])),
        run('auto', 1, curve([25, 0.5], [50, 0.61], [75, 0.65])),
        run('auto', 2, curve([25, 0.5], [50, 0.58], [75, 0.69])),
      ],
      full,
      ['random', 'auto'],
    );
    // gaps at 50: -5, +1, -2 (median -2); at 75: +1, -5, -1 (median -1); per repeat -5, -5, -2.
    expect(paired.auto.worst_gap_to_random).toBeCloseTo(-2, 9);
    expect(paired.auto.worst_gap_per_repeat).toBeCloseTo(-5, 9);
  });
  it('prints one table row per strategy with bounds marked', () => {
    const table = formatSummaryTable([summary.random, summary.margin]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^strategy\s+AUC/);
    expect(lines[2]).toMatch(/^random\s/);
    expect(lines[2]).toContain('>100');
    expect(lines[3]).toMatch(/^margin\s/);
    expect(lines[3]).toContain('>+0%');
  });
});

describe('curve svg', () => {
  it('picks round ticks', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(25, 2000, 8)).toEqual([200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000]);
  });
  it('draws a band and a median line per strategy, a legend and the full-data line', () => {
    const band = medianCurve([curve([25, 0.5], [50, 0.7]), curve([25, 0.55], [50, 0.75])]);
    const svg = renderCurveSvg([{ strategy: 'random', band }, { strategy: 'a<b', band }], { title: 'trec & co', fullAccuracy: 0.8 });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polygon /g)).toHaveLength(2);
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg).toContain('full data 0.800');
    expect(svg).toContain('a&#60;b');
    expect(svg).toContain('trec &#38; co');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });
});
