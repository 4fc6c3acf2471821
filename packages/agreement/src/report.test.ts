import { agreementReport, createRng, type AgreementReport, type Annotation, type CoefficientResult, type Rng } from './index';

/** Every coefficient result in a report. */
function allResults(report: AgreementReport): CoefficientResult[] {
  return [
    ...report.pairs.map((p) => p.cohen_kappa),
    report.fleiss_kappa.overall,
    ...Object.values(report.fleiss_kappa.per_label),
    report.krippendorff_alpha.overall,
    ...Object.values(report.krippendorff_alpha.per_label),
  ];
}

/** Throws on any number in `value` that is not finite (NaN would also turn into null in JSON). */
function expectAllFinite(value: unknown, path = '$'): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${path} is ${value}`);
  } else if (Array.isArray(value)) value.forEach((v, i) => expectAllFinite(v, `${path}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) expectAllFinite(v, `${path}.${k}`);
}

/**
 * Items with a true label; each of `perItem` annotators (drawn from `annotators`) gives it with
 * probability `accuracy`, otherwise a uniformly random label.
 */
function synthetic(rng: Rng, opts: { items: number; annotators: number; perItem: number; labels: string[]; accuracy: number; weights?: number[] }): Annotation[] {
  const { labels } = opts;
  const weights = opts.weights ?? labels.map(() => 1);
  const totalWeight = weights.reduce((s, w) => s + w, 0);
  const pick = () => {
    let x = rng() * totalWeight;
    for (let j = 0; j < labels.length; j++) if ((x -= weights[j]) < 0) return labels[j];
    return labels[labels.length - 1];
  };
  const out: Annotation[] = [];
  for (let item = 0; item < opts.items; item++) {
    const truth = pick();
    const chosen = new Set<number>();
    while (chosen.size < opts.perItem) chosen.add(Math.floor(rng() * opts.annotators));
    for (const a of chosen) {
      const label = rng() < opts.accuracy ? truth : labels[Math.floor(rng() * labels.length)];
      out.push({ itemId: `item-${item}`, annotator: `ann-${a}`, label });
    }
  }
  return out;
}

describe('agreementReport', () => {
  const labels = ['cat', 'dog', 'bird'];
  const data = synthetic(createRng(7), { items: 300, annotators: 4, perItem: 3, labels, accuracy: 0.75 });

  it('gives intervals that contain the point estimate, deterministically for a seed', () => {
    const report = agreementReport(data, labels, { seed: 42 });
    expect(report.items_with_overlap).toBe(300);
    expect(report.pairs).toHaveLength(6);
    for (const result of allResults(report)) {
      expect(result.status).toBe('ok');
      if (result.status !== 'ok') continue;
      expect(result.ci95).not.toBeNull();
      const [lo, hi] = result.ci95!;
      expect(lo).toBeLessThan(result.value);
      expect(hi).toBeGreaterThan(result.value);
      expect(hi - lo).toBeLessThan(0.5);
    }
    expect(agreementReport(data, labels, { seed: 42 })).toEqual(report);
    const other = agreementReport(data, labels, { seed: 43 });
    expect(other.fleiss_kappa.overall).not.toEqual(report.fleiss_kappa.overall);
    // Only the interval moves with the seed.
    expect(other.fleiss_kappa.overall).toMatchObject({ value: (report.fleiss_kappa.overall as { value: number }).value });
    expectAllFinite(report);
  });

  it("a pair's interval does not depend on the other annotators in the report", () => {
    const ab = (report: AgreementReport) => report.pairs.find((p) => p.annotators.join() === 'ann-0,ann-1')!.cohen_kappa;
    const onlyTwo = data.filter((a) => a.annotator === 'ann-0' || a.annotator === 'ann-1');
    expect(ab(agreementReport(onlyTwo, labels, { seed: 5 }))).toEqual(ab(agreementReport(data, labels, { seed: 5 })));
  });

  it('with two labels, per-label Fleiss kappa and alpha equal the overall ones (unequal rater counts too)', () => {
    const rng = createRng(11);
    const binary = synthetic(rng, { items: 200, annotators: 6, perItem: 2, labels: ['yes', 'no'], accuracy: 0.7 });
    binary.push(...synthetic(rng, { items: 100, annotators: 6, perItem: 4, labels: ['yes', 'no'], accuracy: 0.7 }).map((a) => ({ ...a, itemId: `more-${a.itemId}` })));
    const report = agreementReport(binary, ['yes', 'no'], { bootstrapResamples: 200 });
    for (const pooled of [report.fleiss_kappa, report.krippendorff_alpha]) {
      const overall = pooled.overall;
      if (overall.status !== 'ok') throw new Error('expected ok');
      for (const label of ['yes', 'no']) {
        const perLabel = pooled.per_label[label];
        if (perLabel.status !== 'ok') throw new Error('expected ok');
        expect(perLabel.value).toBeCloseTo(overall.value, 12);
        expect(perLabel.ci95![0]).toBeCloseTo(overall.ci95![0], 12);
        expect(perLabel.ci95![1]).toBeCloseTo(overall.ci95![1], 12);
      }
    }
  });

  it('reports too few items as insufficient data, never NaN', () => {
    const few = data.filter((a) => Number(String(a.itemId).slice(5)) < 6);
    const report = agreementReport(few, labels);
    expect(report.items_with_overlap).toBe(6);
    expect(report.minimum_items).toBe(10);
    for (const result of allResults(report)) {
      expect(result).toEqual({ status: 'insufficient-data', items: expect.any(Number), minimum_items: 10, reason: 'too-few-items' });
    }
    expect(report.fleiss_kappa.overall).toMatchObject({ items: 6 });
    expectAllFinite(report);
    // The minimum is configurable.
    expect(agreementReport(few, labels, { minimumItems: 5 }).fleiss_kappa.overall.status).toBe('ok');
  });

  it('reports a single used category as insufficient data (0/0), never NaN', () => {
    const same: Annotation[] = [];
    for (let item = 0; item < 30; item++) for (const annotator of ['a', 'b', 'c']) same.push({ itemId: item, annotator, label: 'dog' });
    const report = agreementReport(same, labels);
    const single = { status: 'insufficient-data', items: 30, minimum_items: 10, reason: 'single-category' };
    expect(report.pairs.map((p) => p.cohen_kappa)).toEqual([single, single, single]);
    for (const pooled of [report.fleiss_kappa, report.krippendorff_alpha]) {
      expect(pooled.overall).toEqual(single);
      expect(pooled.per_label).toEqual({ cat: { ...single, reason: 'label-not-used' }, dog: single, bird: { ...single, reason: 'label-not-used' } });
    }
    expectAllFinite(report);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('gives no interval, with a reason, when too many resamples are degenerate', () => {
    // One 'bird' among 30 items: (29/30)^30 ≈ 36% of resamples lack it, so bird's 0/0.
    const rare: Annotation[] = [];
    for (let item = 0; item < 30; item++) {
      const label = item === 0 ? 'bird' : item % 2 ? 'cat' : 'dog';
      rare.push({ itemId: item, annotator: 'a', label }, { itemId: item, annotator: 'b', label: item % 5 === 1 ? 'dog' : label });
    }
    const report = agreementReport(rare, labels);
    expect(report.fleiss_kappa.per_label.bird).toEqual({ status: 'ok', value: 1, ci95: null, ci95_reason: 'too-many-degenerate-resamples', items: 30 });
    expect(report.fleiss_kappa.overall).toMatchObject({ status: 'ok', ci95: [expect.any(Number), expect.any(Number)] });
    // Allowing every resample to be skipped gives an interval over the others.
    expect(agreementReport(rare, labels, { maxDegenerateShare: 1 }).fleiss_kappa.per_label.bird).toMatchObject({ ci95: [1, 1] });
    expectAllFinite(report);
  });

  it('can skip the bootstrap', () => {
    const report = agreementReport(data, labels, { bootstrapResamples: 0 });
    for (const result of allResults(report)) expect(result).toMatchObject({ status: 'ok', ci95: null, ci95_reason: 'bootstrap-disabled' });
  });

  it("keeps an annotator's last label per item, lists only pairs that share items, counts items per pair", () => {
    const annotations: Annotation[] = [];
    for (let item = 0; item < 12; item++) {
      annotations.push({ itemId: item, annotator: 'x', label: 'cat' });
      annotations.push({ itemId: item, annotator: 'y', label: 'dog' }); // replaced just below
      annotations.push({ itemId: item, annotator: 'y', label: item < 10 ? 'cat' : 'dog' });
      annotations.push({ itemId: item, annotator: 'z', label: item % 2 ? 'cat' : 'dog' });
    }
    annotations.push({ itemId: 'solo', annotator: 'w', label: 'bird' }, { itemId: 100, annotator: 'w', label: 'cat' });
    // Numeric and string ids are different items.
    annotations.push({ itemId: '100', annotator: 'v', label: 'cat' });
    const report = agreementReport(annotations, labels, { bootstrapResamples: 20 });
    expect(report.items_with_overlap).toBe(12);
    expect(report.pairs.map((p) => [p.annotators, p.cohen_kappa.items])).toEqual([
      [['x', 'y'], 12],
      [['x', 'z'], 12],
      [['y', 'z'], 12],
    ]);
    // x: all cat; y: 10 cat, 2 dog: p_o = 10/12, p_e = 10/12 -> kappa 0.
    expect(report.pairs[0].cohen_kappa).toMatchObject({ status: 'ok', value: 0 });
  });

  it('rejects labels outside the label set and bad options', () => {
    expect(() => agreementReport([{ itemId: 1, annotator: 'a', label: 'fish' }], labels)).toThrow(/not in the label set/);
    expect(() => agreementReport([], ['a', 'a'])).toThrow(/twice/);
    expect(() => agreementReport([], labels, { minimumItems: 0 })).toThrow(RangeError);
    expect(() => agreementReport([], labels, { bootstrapResamples: 1.5 })).toThrow(RangeError);
    expect(() => agreementReport([], labels, { maxDegenerateShare: Number.NaN })).toThrow(RangeError);
  });

  it('handles an empty input', () => {
    const report = agreementReport([], labels);
    expect(report.pairs).toEqual([]);
    expect(report.items_with_overlap).toBe(0);
    expect(report.fleiss_kappa.overall).toEqual({ status: 'insufficient-data', items: 0, minimum_items: 10, reason: 'too-few-items' });
    expectAllFinite(report);
  });

  it('stays fast on 100,000 annotations with the default 1000 resamples', () => {
    const big = synthetic(createRng(3), { items: 25_000, annotators: 20, perItem: 4, labels: ['a', 'b', 'c', 'd', 'e'], accuracy: 0.8, weights: [5, 3, 1, 1, 0.2] });
    expect(big).toHaveLength(100_000);
    const started = performance.now();
    const report = agreementReport(big, ['a', 'b', 'c', 'd', 'e']);
    const seconds = (performance.now() - started) / 1000;
    expect(report.items_with_overlap).toBe(25_000);
    expect(report.pairs).toHaveLength(190);
    for (const result of allResults(report)) expect(result).toMatchObject({ status: 'ok', ci95: [expect.any(Number), expect.any(Number)] });
    expectAllFinite(report);
    // Generous bound for slow CI machines; locally it is a few seconds at most.
    expect(seconds).toBeLessThan(60);
  });
});
