import type { IntervalReason } from './types';

/** Type-7 (linear interpolation) quantile of ascending `sorted[0 .. n-1]`, 0 <= p <= 1. */
export function quantile(sorted: Float64Array, n: number, p: number): number {
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Bootstrap values of one coefficient: `values[0 .. kept-1]` hold the non-degenerate resamples. */
export class BootstrapSample {
  readonly values: Float64Array;
  kept = 0;

  constructor(readonly resamples: number) {
    this.values = new Float64Array(resamples);
  }

  push(value: number): void {
    this.values[this.kept++] = value;
  }

  /**
   * Percentile 95% interval over the kept resamples. Degenerate resamples are skipped; when
   * they are more than `maxDegenerateShare` of all resamples, there is no interval.
   */
  interval(maxDegenerateShare: number): { ci95: [number, number] } | { ci95: null; ci95_reason: IntervalReason } {
    if (this.resamples === 0) return { ci95: null, ci95_reason: 'bootstrap-disabled' };
    const degenerate = this.resamples - this.kept;
    if (this.kept === 0 || degenerate > maxDegenerateShare * this.resamples) {
      return { ci95: null, ci95_reason: 'too-many-degenerate-resamples' };
    }
    const sorted = this.values.subarray(0, this.kept).sort();
    return { ci95: [quantile(sorted, this.kept, 0.025), quantile(sorted, this.kept, 0.975)] };
  }
}
