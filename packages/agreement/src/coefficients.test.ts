// The coefficients against published worked examples; each source is named at its test.
import { agreementReport, cohenKappa, fleissKappa, krippendorffAlpha, type Annotation, type CoefficientResult } from './index';

/** Annotations from a subjects × categories count matrix: rater r<k> gives the k-th rating of a subject. */
function fromCounts(counts: number[][], labels: string[]): Annotation[] {
  const out: Annotation[] = [];
  counts.forEach((row, item) => {
    let rater = 0;
    row.forEach((x, j) => {
      for (let c = 0; c < x; c++) out.push({ itemId: item, annotator: `r${rater++}`, label: labels[j] });
    });
  });
  return out;
}

/** Annotations from a 2×2 (or k×k) table of two annotators. */
function fromTable(table: number[][], labels: string[]): Annotation[] {
  const out: Annotation[] = [];
  let item = 0;
  table.forEach((row, a) => row.forEach((x, b) => {
    for (let c = 0; c < x; c++, item++) {
      out.push({ itemId: item, annotator: 'A', label: labels[a] }, { itemId: item, annotator: 'B', label: labels[b] });
    }
  }));
  return out;
}

function okValue(result: CoefficientResult): number {
  if (result.status !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(result)}`);
  return result.value;
}

describe("Fleiss' kappa", () => {
  // Wikipedia, "Fleiss' kappa", worked example (after Fleiss 1971): 10 subjects, 14 raters each,
  // 5 categories; p_j = 0.143 0.200 0.279 0.150 0.229, P̄ = 0.378, P̄e = 0.213, kappa = 0.210.
  const counts = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  const labels = ['1', '2', '3', '4', '5'];

  it('reproduces the textbook example (equal numbers of raters)', () => {
    const f = fleissKappa(counts);
    expect(f.items).toBe(10);
    expect(f.meanAgreement).toBeCloseTo(0.378, 3);
    expect(f.expectedAgreement).toBeCloseTo(0.213, 3);
    expect(f.kappa).toBeCloseTo(0.21, 3);
  });

  it('gives the same value from annotations, and its per-category kappas average to the overall one', () => {
    const report = agreementReport(fromCounts(counts, labels), labels, { bootstrapResamples: 50 });
    expect(report.items_with_overlap).toBe(10);
    const overall = okValue(report.fleiss_kappa.overall);
    expect(overall).toBeCloseTo(0.21, 3);
    // Fleiss (1971): kappa = Σ p_j q_j kappa_j / Σ p_j q_j.
    const total = 140;
    const p = labels.map((_, j) => counts.reduce((s, row) => s + row[j], 0) / total);
    const weights = p.map((pj) => pj * (1 - pj));
    const perLabel = labels.map((label) => okValue(report.fleiss_kappa.per_label[label]));
    const weighted = perLabel.reduce((s, k, j) => s + weights[j] * k, 0) / weights.reduce((s, w) => s + w, 0);
    expect(weighted).toBeCloseTo(overall, 12);
    expect(fleissKappa(counts).perCategory).toEqual(perLabel.map((k) => expect.closeTo(k, 12)));
  });

  it('relates to alpha as 1 - alpha = (n-1)/n (1 - kappa) when every subject has the same raters', () => {
    const f = fleissKappa(counts).kappa!;
    expect(krippendorffAlpha(counts).alpha).toBeCloseTo(1 - (139 / 140) * (1 - f), 12);
  });

  it('drops subjects with fewer than 2 ratings', () => {
    expect(fleissKappa([...counts, [0, 1, 0, 0, 0], [0, 0, 0, 0, 0]])).toEqual(fleissKappa(counts));
  });

  it('handles unequal numbers of raters with per-subject P_i = Σ n_ij(n_ij-1)/(n_i(n_i-1))', () => {
    // Subjects of 2, 3 and 4 ratings; p = (4/9, 5/9) from all 9 ratings.
    const f = fleissKappa([[2, 0], [1, 2], [1, 3]]);
    const P = [1, 2 / 6, 6 / 12];
    const Pbar = (P[0] + P[1] + P[2]) / 3;
    const Pe = (4 / 9) ** 2 + (5 / 9) ** 2;
    expect(f.meanAgreement).toBeCloseTo(Pbar, 12);
    expect(f.expectedAgreement).toBeCloseTo(Pe, 12);
    expect(f.kappa).toBeCloseTo((Pbar - Pe) / (1 - Pe), 12);
  });
});

describe("Cohen's kappa", () => {
  // Wikipedia, "Cohen's kappa", simple worked example: 50 proposals, A and B yes/no:
  // 20 yes-yes, 5 yes(A)-no(B), 10 no(A)-yes(B), 15 no-no; p_o = 0.7, p_e = 0.5, kappa = 0.4.
  const table = [
    [20, 5],
    [10, 15],
  ];

  it('reproduces the textbook example', () => {
    expect(cohenKappa(table)).toBeCloseTo(0.4, 12);
    const report = agreementReport(fromTable(table, ['yes', 'no']), ['yes', 'no'], { bootstrapResamples: 50 });
    expect(report.pairs).toHaveLength(1);
    expect(report.pairs[0].annotators).toEqual(['A', 'B']);
    expect(report.pairs[0].cohen_kappa).toMatchObject({ status: 'ok', items: 50 });
    expect(okValue(report.pairs[0].cohen_kappa)).toBeCloseTo(0.4, 12);
  });

  it("reproduces Wikipedia's two tables of equal (60%) agreement and different kappa", () => {
    // Same article, "Same percentages but different numbers": kappa = 0.1304 and 0.2593.
    expect(cohenKappa([[45, 15], [25, 15]])).toBeCloseTo(0.1304, 4);
    expect(cohenKappa([[25, 35], [5, 35]])).toBeCloseTo(0.2593, 4);
  });

  it('is 1 for perfect agreement and 0 at chance level', () => {
    expect(cohenKappa([[20, 0, 0], [0, 15, 0], [0, 0, 15]])).toBe(1);
    // Independent annotators: every cell is the product of its marginals.
    expect(cohenKappa([[25, 25], [25, 25]])).toBe(0);
    expect(cohenKappa([[6, 4], [9, 6]])).toBe(0);
  });

  it('is null, not NaN, when both annotators used one and the same category', () => {
    expect(cohenKappa([[12, 0], [0, 0]])).toBeNull();
    expect(cohenKappa([[0, 0], [0, 0]])).toBeNull();
  });
});

describe("Krippendorff's alpha (nominal)", () => {
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the example with missing
  // values: 4 observers, 12 units (unit 12 has one value and is not pairable), n = 40 pairable
  // values; nominal alpha = 0.743.
  const X = null;
  const data: Record<string, (number | null)[]> = {
    A: [1, 2, 3, 3, 2, 1, 4, 1, 2, X, X, X],
    B: [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, X, 3],
    C: [X, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, X],
    D: [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, X],
  };
  const labels = ['1', '2', '3', '4', '5'];
  const annotations: Annotation[] = Object.entries(data).flatMap(([coder, values]) =>
    values.flatMap((v, unit) => (v === null ? [] : [{ itemId: `u${unit + 1}`, annotator: coder, label: String(v) }])),
  );

  it('reproduces the published value from the unit × value count matrix', () => {
    const counts = data.A.map((_, u) => labels.map((_, c) => Object.values(data).filter((vs) => vs[u] === c + 1).length));
    const a = krippendorffAlpha(counts);
    expect(a.items).toBe(11);
    expect(a.pairableValues).toBe(40);
    expect(a.alpha).toBeCloseTo(0.743, 3);
  });

  it('reproduces it from annotations with missing values, dropping the unpairable unit', () => {
    const report = agreementReport(annotations, labels, { bootstrapResamples: 50 });
    expect(report.items_with_overlap).toBe(11);
    expect(report.krippendorff_alpha.overall).toMatchObject({ status: 'ok', items: 11 });
    expect(okValue(report.krippendorff_alpha.overall)).toBeCloseTo(0.743, 3);
    // Pairs: every pair of the four observers shares some units.
    expect(report.pairs.map((p) => p.annotators)).toEqual([
      ['A', 'B'], ['A', 'C'], ['A', 'D'], ['B', 'C'], ['B', 'D'], ['C', 'D'],
    ]);
  });

  it('per label is the alpha of the one-vs-rest binarised data', () => {
    const report = agreementReport(annotations, labels, { bootstrapResamples: 0, minimumItems: 1 });
    for (const label of labels) {
      const binary = annotations.map((a) => ({ ...a, label: a.label === label ? 'yes' : 'no' }));
      const expected = agreementReport(binary, ['yes', 'no'], { bootstrapResamples: 0, minimumItems: 1 });
      expect(okValue(report.krippendorff_alpha.per_label[label])).toBeCloseTo(okValue(expected.krippendorff_alpha.overall), 12);
    }
  });
});
