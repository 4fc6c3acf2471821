import { BootstrapSample } from './bootstrap';
import {
  accumulatePooled,
  alphaCategory,
  alphaOverall,
  cohenFromTally,
  createPooledSums,
  fleissCategory,
  fleissOverall,
  pairTable,
  UnitTableBuilder,
  type Degenerate,
  type PooledSums,
  type UnitTable,
} from './coefficients';
import { Mulberry32, streamSeed } from './rng';
import type {
  AgreementOptions,
  AgreementReport,
  Annotation,
  CoefficientResult,
  PairAgreement,
  PooledAgreement,
} from './types';

export const DEFAULT_MINIMUM_ITEMS = 10;
export const DEFAULT_BOOTSTRAP_RESAMPLES = 1000;
export const DEFAULT_SEED = 1;
export const DEFAULT_MAX_DEGENERATE_SHARE = 0.05;

interface Settings {
  minimumItems: number;
  resamples: number;
  seed: number;
  maxDegenerateShare: number;
}

function settingsOf(options: AgreementOptions): Settings {
  const minimumItems = options.minimumItems ?? DEFAULT_MINIMUM_ITEMS;
  const resamples = options.bootstrapResamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? DEFAULT_SEED;
  const maxDegenerateShare = options.maxDegenerateShare ?? DEFAULT_MAX_DEGENERATE_SHARE;
  if (!Number.isSafeInteger(minimumItems) || minimumItems < 1) throw new RangeError(`minimumItems must be an integer >= 1 (got ${minimumItems})`);
  if (!Number.isSafeInteger(resamples) || resamples < 0) throw new RangeError(`bootstrapResamples must be an integer >= 0 (got ${resamples})`);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer (got ${seed})`);
  if (!(maxDegenerateShare >= 0 && maxDegenerateShare <= 1)) {
    throw new RangeError(`maxDegenerateShare must be between 0 and 1 (got ${maxDegenerateShare})`);
  }
  return { minimumItems, resamples, seed, maxDegenerateShare };
}

/** The two annotators' categories on every item both labelled. */
interface PairItems {
  first: number;
  second: number;
  firstLabels: number[];
  secondLabels: number[];
}

interface Grouped {
  annotators: string[];
  table: UnitTable;
  pairs: PairItems[];
}

/**
 * Indexes labels, items and annotators; keeps one label per (item, annotator), the last in
 * input order; builds the unit table of the items with at least two annotators and, for every
 * pair of annotators, the items they share.
 */
function group(annotations: readonly Annotation[], labels: readonly string[]): Grouped {
  const labelIndex = new Map<string, number>();
  labels.forEach((label, j) => {
    if (typeof label !== 'string') throw new TypeError(`labels[${j}] is not a string`);
    if (labelIndex.has(label)) throw new RangeError(`label "${label}" appears twice in the label set`);
    labelIndex.set(label, j);
  });
  const k = labels.length;
  const n = annotations.length;
  const itemOf = new Int32Array(n);
  const annotatorOf = new Int32Array(n);
  const labelOf = new Int32Array(n);
  const itemIndex = new Map<string | number, number>();
  const annotatorNames = new Set<string>();
  for (let i = 0; i < n; i++) {
    const { itemId, annotator, label } = annotations[i];
    if (typeof itemId !== 'string' && !(typeof itemId === 'number' && Number.isFinite(itemId))) {
      throw new TypeError(`annotations[${i}].itemId is not a string or finite number`);
    }
    if (typeof annotator !== 'string') throw new TypeError(`annotations[${i}].annotator is not a string`);
    const j = labelIndex.get(label);
    if (j === undefined) throw new RangeError(`annotations[${i}].label "${String(label)}" is not in the label set`);
    labelOf[i] = j;
    let item = itemIndex.get(itemId);
    if (item === undefined) itemIndex.set(itemId, (item = itemIndex.size));
    itemOf[i] = item;
    annotatorNames.add(annotator);
  }
  const annotators = [...annotatorNames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const annotatorIndex = new Map(annotators.map((name, a) => [name, a]));
  for (let i = 0; i < n; i++) annotatorOf[i] = annotatorIndex.get(annotations[i].annotator)!;

  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((x, y) => itemOf[x] - itemOf[y] || annotatorOf[x] - annotatorOf[y] || x - y);

  const builder = new UnitTableBuilder(k);
  const pairIndex = new Map<number, PairItems>();
  const scratch = new Int32Array(k);
  const itemAnnotators: number[] = [];
  const itemLabels: number[] = [];
  const usedLabels: number[] = [];
  const usedCounts: number[] = [];
  let g = 0;
  while (g < n) {
    const item = itemOf[order[g]];
    itemAnnotators.length = 0;
    itemLabels.length = 0;
    for (; g < n && itemOf[order[g]] === item; g++) {
      const i = order[g];
      const last = itemAnnotators.length - 1;
      if (last >= 0 && itemAnnotators[last] === annotatorOf[i]) itemLabels[last] = labelOf[i]; // a later label replaces an earlier one
      else {
        itemAnnotators.push(annotatorOf[i]);
        itemLabels.push(labelOf[i]);
      }
    }
    const m = itemAnnotators.length;
    if (m < 2) continue;
    usedLabels.length = 0;
    usedCounts.length = 0;
    for (const j of itemLabels) if (scratch[j]++ === 0) usedLabels.push(j);
    for (const j of usedLabels) {
      usedCounts.push(scratch[j]);
      scratch[j] = 0;
    }
    builder.addUnit(usedLabels, usedCounts);
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const key = itemAnnotators[p] * annotators.length + itemAnnotators[q];
        let pair = pairIndex.get(key);
        if (!pair) {
          pair = { first: itemAnnotators[p], second: itemAnnotators[q], firstLabels: [], secondLabels: [] };
          pairIndex.set(key, pair);
        }
        pair.firstLabels.push(itemLabels[p]);
        pair.secondLabels.push(itemLabels[q]);
      }
    }
  }
  const pairs = [...pairIndex.values()].sort((x, y) => x.first - y.first || x.second - y.second);
  return { annotators, table: builder.build(), pairs };
}

function insufficient(items: number, settings: Settings, reason: Degenerate | 'too-few-items'): CoefficientResult {
  return { status: 'insufficient-data', items, minimum_items: settings.minimumItems, reason };
}

function ok(value: number, items: number, sample: BootstrapSample, settings: Settings): CoefficientResult {
  return { status: 'ok', value, ...sample.interval(settings.maxDegenerateShare), items };
}

function cohenResult(pair: PairItems, k: number, settings: Settings, pairName: string): CoefficientResult {
  const items = pair.firstLabels.length;
  if (items < settings.minimumItems) return insufficient(items, settings, 'too-few-items');
  const table = pairTable(k, pair.firstLabels, pair.secondLabels);
  const rows = new Float64Array(k);
  const columns = new Float64Array(k);
  const point = cohenFromTally(table, rows, columns);
  if (typeof point !== 'number') return insufficient(items, settings, point);
  const sample = new BootstrapSample(settings.resamples);
  const rng = new Mulberry32(streamSeed(settings.seed, `cohen\u0000${pairName}`));
  const tally = new Float64Array(table.multiplicity.length);
  for (let r = 0; r < settings.resamples; r++) {
    const kappa = cohenFromTally(table, rows, columns, rng.tallyResample(table.cellOf, tally));
    if (typeof kappa === 'number') sample.push(kappa);
  }
  return ok(point, items, sample, settings);
}

/** One pooled coefficient: its point estimate, and how to read it off a resample's sums. */
interface Pooled {
  statistic: (s: PooledSums) => number | Degenerate;
  point: number | Degenerate;
  sample: BootstrapSample | null;
}

function pooledResults(table: UnitTable, labels: readonly string[], settings: Settings): { fleiss: PooledAgreement; alpha: PooledAgreement } {
  const items = table.units;
  const k = labels.length;
  if (items < settings.minimumItems) {
    const none = () => ({
      overall: insufficient(items, settings, 'too-few-items'),
      per_label: Object.fromEntries(labels.map((label) => [label, insufficient(items, settings, 'too-few-items')])),
    });
    return { fleiss: none(), alpha: none() };
  }
  const statistics: ((s: PooledSums) => number | Degenerate)[] = [fleissOverall, alphaOverall];
  for (let j = 0; j < k; j++) statistics.push((s) => fleissCategory(s, j));
  for (let j = 0; j < k; j++) statistics.push((s) => alphaCategory(s, j));

  const sums = accumulatePooled(table, createPooledSums(k));
  const coefficients: Pooled[] = statistics.map((statistic) => {
    const point = statistic(sums);
    return { statistic, point, sample: typeof point === 'number' ? new BootstrapSample(settings.resamples) : null };
  });
  const tracked = coefficients.filter((c) => c.sample !== null);
  if (tracked.length > 0) {
    const rng = new Mulberry32(streamSeed(settings.seed, 'pooled'));
    const tally = new Float64Array(table.multiplicity.length);
    for (let r = 0; r < settings.resamples; r++) {
      accumulatePooled(table, sums, rng.tallyResample(table.patternOf, tally));
      for (const c of tracked) {
        const v = c.statistic(sums);
        if (typeof v === 'number') c.sample!.push(v);
      }
    }
  }
  const result = (c: Pooled): CoefficientResult =>
    typeof c.point === 'number' ? ok(c.point, items, c.sample!, settings) : insufficient(items, settings, c.point);
  const perLabel = (offset: number) => Object.fromEntries(labels.map((label, j) => [label, result(coefficients[offset + j])]));
  return {
    fleiss: { overall: result(coefficients[0]), per_label: perLabel(2) },
    alpha: { overall: result(coefficients[1]), per_label: perLabel(2 + k) },
  };
}

/**
 * Inter-annotator agreement on nominal labels: Cohen's kappa for every pair of annotators that
 * share an item, Fleiss' kappa and Krippendorff's alpha (overall and per label) over the items
 * with at least two annotators, each with a bootstrap percentile 95% interval.
 *
 * An annotator's repeated labels on one item count once (the last in input order). A label not
 * in `labels` is an error (RangeError), as are duplicate labels in `labels`.
 */
export function agreementReport(
  annotations: readonly Annotation[],
  labels: readonly string[],
  options: AgreementOptions = {},
): AgreementReport {
  const settings = settingsOf(options);
  const { annotators, table, pairs } = group(annotations, labels);
  const k = labels.length;
  const pairResults: PairAgreement[] = pairs.map((pair) => {
    const a = annotators[pair.first];
    const b = annotators[pair.second];
    return { annotators: [a, b], cohen_kappa: cohenResult(pair, k, settings, `${a}\u0000${b}`) };
  });
  const { fleiss, alpha } = pooledResults(table, labels, settings);
  return {
    pairs: pairResults,
    fleiss_kappa: fleiss,
    krippendorff_alpha: alpha,
    items_with_overlap: table.units,
    minimum_items: settings.minimumItems,
  };
}
