import {
  REACH_FRACTIONS,
  reachKey,
  type CurvePoint,
  type FullDataResult,
  type ReachKey,
  type RunResult,
  type Saving,
  type StopPoint,
  type StrategySummary,
} from './simulate.types';

/** The strategy every other one is compared with. */
export const BASELINE = 'random';

/**
 * Trapezoidal area under accuracy vs labels divided by the label range it covers, i.e. the
 * curve's mean accuracy over that range; a one-point curve is its accuracy. Normalising makes
 * curves of different budgets comparable on the same 0..1 scale.
 */
export function normalizedAuc(curve: readonly CurvePoint[]): number | null {
  if (curve.length === 0) return null;
  if (curve.length === 1) return curve[0].accuracy;
  let area = 0;
  for (let i = 1; i < curve.length; i++) {
    area += ((curve[i].accuracy + curve[i - 1].accuracy) / 2) * (curve[i].labels - curve[i - 1].labels);
  }
  const range = curve[curve.length - 1].labels - curve[0].labels;
  return range > 0 ? area / range : curve[curve.length - 1].accuracy;
}

/**
 * Labels of the first point whose accuracy is at least `target`; null if the curve never gets
 * there. A tolerance of 1e-9 keeps 0.9 * 0.8 (0.7200000000000001) from missing an accuracy of 0.72.
 */
export function labelsToReach(curve: readonly CurvePoint[], target: number): number | null {
  for (const point of curve) if (point.accuracy >= target - 1e-9) return point.labels;
  return null;
}

/** Accuracy of the curve at `labels`, linear between points; null outside the curve's label range. */
export function accuracyAt(curve: readonly CurvePoint[], labels: number): number | null {
  if (curve.length === 0 || labels < curve[0].labels || labels > curve[curve.length - 1].labels) return null;
  for (let i = 0; i < curve.length; i++) {
    const b = curve[i];
    if (b.labels === labels) return b.accuracy;
    if (b.labels > labels) {
      const a = curve[i - 1];
      return a.accuracy + ((b.accuracy - a.accuracy) * (labels - a.labels)) / (b.labels - a.labels);
    }
  }
  return null;
}

/**
 * The most negative (curve - baseline) accuracy over the curve's points that the baseline
 * covers, in accuracy points (x100): how much worse than random the strategy ever is. Null when
 * the two curves share no label range.
 */
export function worstGap(curve: readonly CurvePoint[], baseline: readonly CurvePoint[]): number | null {
  let worst: number | null = null;
  for (const point of curve) {
    const base = accuracyAt(baseline, point.labels);
    if (base === null) continue;
    const gap = (point.accuracy - base) * 100;
    if (worst === null || gap < worst) worst = gap;
  }
  return worst;
}

/**
 * The worst point of the median paired gap: at each label count of the strategy's curves, the
 * median over repeats of (repeat i - random's repeat i) in accuracy points, then the lowest of
 * those medians. This is "median of the repeats, worst point of the curve". The median of each
 * repeat's own worst point (worstGap per repeat) is lower by construction: a minimum over ~80
 * noisy differences is biased down even for two strategies with the same expected curve.
 */
export function worstMedianGap(pairs: readonly { curve: readonly CurvePoint[]; baseline: readonly CurvePoint[] }[]): number | null {
  const gapsAt = new Map<number, number[]>();
  for (const { curve, baseline } of pairs) {
    for (const point of curve) {
      const base = accuracyAt(baseline, point.labels);
      if (base === null) continue;
      const gaps = gapsAt.get(point.labels) ?? [];
      gaps.push((point.accuracy - base) * 100);
      gapsAt.set(point.labels, gaps);
    }
  }
  let worst: number | null = null;
  for (const gaps of gapsAt.values()) {
    const mid = median(gaps)!;
    if (worst === null || mid < worst) worst = mid;
  }
  return worst;
}

/**
 * Percent fewer labels than random to reach a target. When only one side reached it, the other
 * is known to need more than `maxLabels`, so the figure is a bound: at least pct ('lower') when
 * only the strategy got there, at most pct ('upper') when only random did.
 */
export function saving(randomLabels: number | null, strategyLabels: number | null, maxLabels: number): Saving {
  const pct = (r: number, s: number) => (1 - s / r) * 100;
  if (randomLabels !== null && strategyLabels !== null) return { pct: pct(randomLabels, strategyLabels), bound: 'exact' };
  if (randomLabels === null && strategyLabels !== null) return { pct: pct(maxLabels, strategyLabels), bound: 'lower' };
  if (randomLabels !== null && strategyLabels === null) return { pct: pct(randomLabels, maxLabels), bound: 'upper' };
  return { pct: null, bound: 'none' };
}

/** Median of the finite numbers given; null when there are none. */
export function median(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/**
 * Median of labels-to-reach over repeats, where a repeat that never reached the target counts
 * as needing infinitely many: null unless more than half of the repeats got there.
 */
export function medianReach(values: readonly (number | null)[]): number | null {
  const xs = values.map((v) => (v === null ? Infinity : v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  const m = xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
  return Number.isFinite(m) ? m : null;
}

/** One point of a median curve with the spread over repeats. */
export interface BandPoint {
  labels: number;
  median: number;
  min: number;
  max: number;
  /** Repeats whose curve covers this label count. */
  n: number;
}

/**
 * Median, min and max accuracy over curves at every label count any of them has; each curve
 * contributes only inside its own label range (linear between its points), so curves on
 * different grids (the API's) still combine.
 */
export function medianCurve(curves: readonly (readonly CurvePoint[])[]): BandPoint[] {
  const grid = [...new Set(curves.flatMap((c) => c.map((p) => p.labels)))].sort((a, b) => a - b);
  const band: BandPoint[] = [];
  for (const labels of grid) {
    const values = curves.map((c) => accuracyAt(c, labels)).filter((v): v is number => v !== null);
    if (values.length === 0) continue;
    band.push({ labels, median: median(values)!, min: Math.min(...values), max: Math.max(...values), n: values.length });
  }
  return band;
}

const medianPoint = (points: readonly (StopPoint | null)[]): StopPoint | null => {
  const present = points.filter((p): p is StopPoint => p !== null);
  // Half or more of the repeats must have one, as with medianReach.
  if (present.length * 2 < points.length || present.length === 0) return null;
  return { labels: median(present.map((p) => p.labels))!, accuracy: median(present.map((p) => p.accuracy))! };
};

/**
 * Per-strategy medians over repeats. Labels-to-reach x% uses each repeat's own full-data
 * accuracy (or the single reference when there is one); gaps are paired: repeat i of a strategy
 * against repeat i of random. Savings compare the median labels-to-reach of the strategy and
 * of random.
 */
export function summarize(runs: readonly RunResult[], fullData: readonly FullDataResult[], strategies: readonly string[]): Record<string, StrategySummary> {
  const fullOf = (repeat: number): number | null =>
    (fullData.find((f) => f.repeat === repeat) ?? (fullData.length === 1 ? fullData[0] : undefined))?.accuracy ?? null;
  const randomRuns = new Map(runs.filter((r) => r.strategy === BASELINE).map((r) => [r.repeat, r]));
  const lastLabels = (r: RunResult) => (r.curve.length ? r.curve[r.curve.length - 1].labels : 0);
  const randomMax = median([...randomRuns.values()].map(lastLabels)) ?? 0;
  const ownMax = new Map<string, number>();

  const partial = new Map<string, Omit<StrategySummary, 'saving_vs_random'>>();
  for (const strategy of strategies) {
    const own = runs.filter((r) => r.strategy === strategy);
    const reach = {} as Record<ReachKey, number | null>;
    for (const fraction of REACH_FRACTIONS) {
      reach[reachKey(fraction)] = medianReach(
        own.map((r) => {
          const full = fullOf(r.repeat);
          return full === null ? null : labelsToReach(r.curve, fraction * full);
        }),
      );
    }
    ownMax.set(strategy, median(own.map(lastLabels)) ?? 0);
    partial.set(strategy, {
      strategy,
      repeats: own.length,
      auc: median(own.map((r) => normalizedAuc(r.curve))),
      full_accuracy: median(own.map((r) => fullOf(r.repeat))),
      labels_to_reach: reach,
      worst_gap_to_random: worstMedianGap(
        own.flatMap((r) => {
          const base = randomRuns.get(r.repeat);
          return base ? [{ curve: r.curve, baseline: base.curve }] : [];
        }),
      ),
      worst_gap_per_repeat: median(
        own.map((r) => {
          const base = randomRuns.get(r.repeat);
          return base ? worstGap(r.curve, base.curve) : null;
        }),
      ),
      final: medianPoint(own.map((r) => (r.curve.length ? { labels: lastLabels(r), accuracy: r.curve[r.curve.length - 1].accuracy } : null))),
      stop: medianPoint(own.map((r) => r.stop)),
    });
  }

  const random = partial.get(BASELINE);
  const out: Record<string, StrategySummary> = {};
  for (const [strategy, s] of partial) {
    const savings = {} as Record<ReachKey, Saving>;
    for (const fraction of REACH_FRACTIONS) {
      const key = reachKey(fraction);
      // Both curves went at least this far, so a side that never reached the target needs more.
      const reached = Math.min(randomMax, ownMax.get(strategy) ?? 0);
      savings[key] = random ? saving(random.labels_to_reach[key], s.labels_to_reach[key], reached) : { pct: null, bound: 'none' };
    }
    out[strategy] = { ...s, saving_vs_random: savings };
  }
  return out;
}
