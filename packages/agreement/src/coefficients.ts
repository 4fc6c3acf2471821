// Point estimates of the coefficients, written over sums that a bootstrap resample can rebuild
// cheaply: units with the same label counts (a pair's items with the same two labels) form one
// pattern whose contribution is precomputed once, a resample is the number of draws of each
// pattern (Mulberry32.tallyResample), and the coefficients are closed-form functions of the
// tallied sums. Degenerate 0/0 cases are detected on exact integer sums and returned as a
// reason, never as NaN.

/** Why a coefficient is 0/0 on some data. */
export type Degenerate = 'single-category' | 'label-not-used';

/**
 * The units (items) with at least two values, grouped into patterns: units with the same
 * per-category counts contribute the same to every sum, so a resample only needs how many times
 * it drew each pattern. For a pattern with m values and x_j values in category j:
 * - fleissDisagreement = 1 - P_u = (m² - Σ_j x_j²) / (m (m - 1))
 * - alphaDisagreement = (m² - Σ_j x_j²) / (m - 1), the unit's off-diagonal coincidences
 * - fleissTerm_j = x_j (m - x_j) / (m (m - 1)), alphaTerm_j = x_j (m - x_j) / (m - 1)
 */
export interface UnitTable {
  readonly categories: number;
  /** N, pairable units. */
  readonly units: number;
  /** The pattern of each unit (length N). */
  readonly patternOf: Int32Array;
  /** Units per pattern (sums to N). */
  readonly multiplicity: Float64Array;
  readonly size: Float64Array;
  readonly fleissDisagreement: Float64Array;
  readonly alphaDisagreement: Float64Array;
  /** Pattern p's nonzero categories are entries start[p] .. start[p + 1] - 1 of the arrays below. */
  readonly start: Int32Array;
  readonly category: Int32Array;
  readonly count: Float64Array;
  readonly fleissTerm: Float64Array;
  readonly alphaTerm: Float64Array;
}

/** Collects units one at a time; units with fewer than 2 values are not pairable and are dropped. */
export class UnitTableBuilder {
  private readonly patternIndex = new Map<string, number>();
  private readonly patternOf: number[] = [];
  private readonly multiplicity: number[] = [];
  private readonly size: number[] = [];
  private readonly fleissDisagreement: number[] = [];
  private readonly alphaDisagreement: number[] = [];
  private readonly start: number[] = [0];
  private readonly category: number[] = [];
  private readonly count: number[] = [];
  private readonly fleissTerm: number[] = [];
  private readonly alphaTerm: number[] = [];

  constructor(readonly categories: number) {}

  /** One unit: `counts[k]` values of category `categories[k]` (each category at most once). */
  addUnit(categories: ArrayLike<number>, counts: ArrayLike<number>): void {
    const entries: [number, number][] = [];
    let m = 0;
    let squares = 0;
    for (let k = 0; k < counts.length; k++) {
      if (counts[k] === 0) continue;
      entries.push([categories[k], counts[k]]);
      m += counts[k];
      squares += counts[k] * counts[k];
    }
    if (m < 2) return;
    entries.sort((a, b) => a[0] - b[0]);
    const key = entries.join(';');
    let p = this.patternIndex.get(key);
    if (p === undefined) {
      p = this.size.length;
      this.patternIndex.set(key, p);
      this.multiplicity.push(0);
      this.size.push(m);
      this.fleissDisagreement.push((m * m - squares) / (m * (m - 1)));
      this.alphaDisagreement.push((m * m - squares) / (m - 1));
      for (const [j, x] of entries) {
        this.category.push(j);
        this.count.push(x);
        this.fleissTerm.push((x * (m - x)) / (m * (m - 1)));
        this.alphaTerm.push((x * (m - x)) / (m - 1));
      }
      this.start.push(this.category.length);
    }
    this.multiplicity[p]++;
    this.patternOf.push(p);
  }

  build(): UnitTable {
    return {
      categories: this.categories,
      units: this.patternOf.length,
      patternOf: Int32Array.from(this.patternOf),
      multiplicity: Float64Array.from(this.multiplicity),
      size: Float64Array.from(this.size),
      fleissDisagreement: Float64Array.from(this.fleissDisagreement),
      alphaDisagreement: Float64Array.from(this.alphaDisagreement),
      start: Int32Array.from(this.start),
      category: Int32Array.from(this.category),
      count: Float64Array.from(this.count),
      fleissTerm: Float64Array.from(this.fleissTerm),
      alphaTerm: Float64Array.from(this.alphaTerm),
    };
  }
}

/** The sums over a multiset of units that Fleiss' kappa and alpha are functions of. */
export interface PooledSums {
  /** N: units (with multiplicity). */
  units: number;
  /** Σ m_u: all values (ratings) in those units; alpha's n. */
  values: number;
  /** Σ (1 - P_u). */
  fleissDisagreement: number;
  /** Σ alphaDisagreement_u. */
  alphaDisagreement: number;
  /** T_j = Σ x_uj, values per category (exact integers). */
  readonly total: Float64Array;
  readonly fleissTerm: Float64Array;
  readonly alphaTerm: Float64Array;
  /** Σ_j T_j². */
  totalSquares: number;
}

export function createPooledSums(categories: number): PooledSums {
  return {
    units: 0,
    values: 0,
    fleissDisagreement: 0,
    alphaDisagreement: 0,
    total: new Float64Array(categories),
    fleissTerm: new Float64Array(categories),
    alphaTerm: new Float64Array(categories),
    totalSquares: 0,
  };
}

/** Resets `sums` to the sums over `tally[p]` units of each pattern p (default: the data itself). */
export function accumulatePooled(table: UnitTable, sums: PooledSums, tally: Float64Array = table.multiplicity): PooledSums {
  sums.total.fill(0);
  sums.fleissTerm.fill(0);
  sums.alphaTerm.fill(0);
  let units = 0;
  let values = 0;
  let fleissDisagreement = 0;
  let alphaDisagreement = 0;
  const { start, category, count, fleissTerm, alphaTerm } = table;
  for (let p = 0; p < tally.length; p++) {
    const w = tally[p];
    if (w === 0) continue;
    units += w;
    values += w * table.size[p];
    fleissDisagreement += w * table.fleissDisagreement[p];
    alphaDisagreement += w * table.alphaDisagreement[p];
    for (let e = start[p], end = start[p + 1]; e < end; e++) {
      const j = category[e];
      sums.total[j] += w * count[e];
      sums.fleissTerm[j] += w * fleissTerm[e];
      sums.alphaTerm[j] += w * alphaTerm[e];
    }
  }
  let squares = 0;
  for (let j = 0; j < sums.total.length; j++) squares += sums.total[j] * sums.total[j];
  sums.units = units;
  sums.values = values;
  sums.fleissDisagreement = fleissDisagreement;
  sums.alphaDisagreement = alphaDisagreement;
  sums.totalSquares = squares;
  return sums;
}

/**
 * Fleiss' kappa, generalised to unequal numbers of ratings per unit: P_u as above (each unit
 * weighs the same), p_j = T_j / Σ m_u from all ratings, P̄e = Σ p_j²;
 * kappa = (P̄ - P̄e) / (1 - P̄e) = 1 - (1 - P̄) / (1 - P̄e). 0/0 when one category holds every rating.
 */
export function fleissOverall(s: PooledSums): number | Degenerate {
  const r2 = s.values * s.values;
  const spread = r2 - s.totalSquares; // (1 - P̄e) · R², exact
  if (spread <= 0 || s.units === 0) return 'single-category';
  return 1 - ((s.fleissDisagreement / s.units) * r2) / spread;
}

/**
 * Fleiss' (1971) category-specific kappa, same generalisation:
 * kappa_j = 1 - Σ_u x_uj (m_u - x_uj) / (m_u (m_u - 1)) / (N p_j q_j).
 */
export function fleissCategory(s: PooledSums, j: number): number | Degenerate {
  const t = s.total[j];
  if (t === 0) return 'label-not-used';
  if (t >= s.values) return 'single-category';
  return 1 - ((s.fleissTerm[j] / s.units) * s.values * s.values) / (t * (s.values - t));
}

/**
 * Krippendorff's alpha, nominal, from the coincidence matrix: with n pairable values and n_c
 * per category, D_o = Σ_u (m_u² - Σ_c x_uc²) / (m_u - 1) / n and
 * D_e = (n² - Σ_c n_c²) / (n (n - 1)); alpha = 1 - D_o / D_e.
 */
export function alphaOverall(s: PooledSums): number | Degenerate {
  const n = s.values;
  const spread = n * n - s.totalSquares;
  if (spread <= 0) return 'single-category';
  return 1 - ((n - 1) * s.alphaDisagreement) / spread;
}

/** Alpha of the one-vs-rest binarisation of category j (j, or any other category). */
export function alphaCategory(s: PooledSums, j: number): number | Degenerate {
  const n = s.values;
  const t = s.total[j];
  if (t === 0) return 'label-not-used';
  if (t >= n) return 'single-category';
  return 1 - ((n - 1) * s.alphaTerm[j]) / (t * (n - t));
}

/**
 * The items two annotators share, grouped by cell (first annotator's category, second's):
 * `cellOf[i]` is item i's cell, `multiplicity[c]` the items in cell c.
 */
export interface PairTable {
  readonly categories: number;
  readonly items: number;
  readonly cellOf: Int32Array;
  readonly multiplicity: Float64Array;
  readonly first: Int32Array;
  readonly second: Int32Array;
}

export function pairTable(categories: number, firstLabels: ArrayLike<number>, secondLabels: ArrayLike<number>): PairTable {
  const cellIndex = new Map<number, number>();
  const cellOf = new Int32Array(firstLabels.length);
  const first: number[] = [];
  const second: number[] = [];
  const multiplicity: number[] = [];
  for (let i = 0; i < firstLabels.length; i++) {
    const key = firstLabels[i] * categories + secondLabels[i];
    let c = cellIndex.get(key);
    if (c === undefined) {
      c = first.length;
      cellIndex.set(key, c);
      first.push(firstLabels[i]);
      second.push(secondLabels[i]);
      multiplicity.push(0);
    }
    multiplicity[c]++;
    cellOf[i] = c;
  }
  return {
    categories,
    items: firstLabels.length,
    cellOf,
    multiplicity: Float64Array.from(multiplicity),
    first: Int32Array.from(first),
    second: Int32Array.from(second),
  };
}

/**
 * Cohen's kappa of one pair over `tally[c]` items of each cell c (default: the data itself).
 * With n items, d agreements and marginals r_k, c_k: kappa = (n·d - Σ r_k c_k) / (n² - Σ r_k c_k),
 * all integers, so 0/0 (both annotators used one and the same category) is detected exactly.
 * `rows` and `columns` are scratch arrays of length `categories`.
 */
export function cohenFromTally(
  table: Pick<PairTable, 'first' | 'second' | 'multiplicity'>,
  rows: Float64Array,
  columns: Float64Array,
  tally: Float64Array = table.multiplicity,
): number | Degenerate {
  rows.fill(0);
  columns.fill(0);
  let n = 0;
  let agreements = 0;
  for (let c = 0; c < tally.length; c++) {
    const w = tally[c];
    if (w === 0) continue;
    const a = table.first[c];
    const b = table.second[c];
    n += w;
    rows[a] += w;
    columns[b] += w;
    if (a === b) agreements += w;
  }
  let chance = 0;
  for (let k = 0; k < rows.length; k++) chance += rows[k] * columns[k];
  const denominator = n * n - chance;
  if (denominator <= 0) return 'single-category';
  return (n * agreements - chance) / denominator;
}

function checkCounts(matrix: readonly (readonly number[])[], what: string): number {
  const width = matrix.length > 0 ? matrix[0].length : 0;
  matrix.forEach((row, i) => {
    if (row.length !== width) throw new RangeError(`${what}: row ${i} has ${row.length} entries, row 0 has ${width}`);
    row.forEach((x, j) => {
      if (!Number.isSafeInteger(x) || x < 0) throw new RangeError(`${what}: entry [${i}][${j}] is not a count (${x})`);
    });
  });
  return width;
}

function tableFromCounts(counts: readonly (readonly number[])[], what: string): UnitTable {
  const k = checkCounts(counts, what);
  const builder = new UnitTableBuilder(k);
  const categories = Array.from({ length: k }, (_, j) => j);
  for (const row of counts) builder.addUnit(categories, row);
  return builder.build();
}

const orNull = (x: number | Degenerate): number | null => (typeof x === 'number' ? x : null);

/**
 * Cohen's kappa of a square contingency table (`table[a][b]`: items the first annotator put in
 * category a and the second in b). null when undefined (no items, or both used one category).
 */
export function cohenKappa(table: readonly (readonly number[])[]): number | null {
  const k = checkCounts(table, 'cohenKappa');
  if (k !== table.length) throw new RangeError(`cohenKappa: the table is ${table.length}×${k}, not square`);
  const first: number[] = [];
  const second: number[] = [];
  const multiplicity: number[] = [];
  table.forEach((row, a) => row.forEach((x, b) => {
    first.push(a);
    second.push(b);
    multiplicity.push(x);
  }));
  const cells = { first: Int32Array.from(first), second: Int32Array.from(second), multiplicity: Float64Array.from(multiplicity) };
  return orNull(cohenFromTally(cells, new Float64Array(k), new Float64Array(k)));
}

export interface FleissKappaValues {
  /** null when 0/0 (one category only) or no unit has 2 ratings. */
  kappa: number | null;
  /** Category-specific kappa; null for a category used for no rating or for all of them. */
  perCategory: (number | null)[];
  /** P̄, mean per-unit agreement. */
  meanAgreement: number | null;
  /** P̄e = Σ p_j². */
  expectedAgreement: number | null;
  /** Units with at least 2 ratings (the others are dropped). */
  items: number;
}

/**
 * Fleiss' kappa of a subjects × categories count matrix (`counts[i][j]`: raters who put
 * subject i in category j). Rows may have different totals (see fleissOverall).
 */
export function fleissKappa(counts: readonly (readonly number[])[]): FleissKappaValues {
  const table = tableFromCounts(counts, 'fleissKappa');
  const s = accumulatePooled(table, createPooledSums(table.categories));
  const perCategory = Array.from({ length: table.categories }, (_, j) => (table.units > 0 ? orNull(fleissCategory(s, j)) : null));
  if (table.units === 0) return { kappa: null, perCategory, meanAgreement: null, expectedAgreement: null, items: 0 };
  return {
    kappa: orNull(fleissOverall(s)),
    perCategory,
    meanAgreement: 1 - s.fleissDisagreement / s.units,
    expectedAgreement: s.totalSquares / (s.values * s.values),
    items: table.units,
  };
}

export interface KrippendorffAlphaValues {
  /** null when 0/0 (one category only) or no pairable unit. */
  alpha: number | null;
  /** One-vs-rest alpha per category; null for a category used for no value or for all of them. */
  perCategory: (number | null)[];
  observedDisagreement: number | null;
  expectedDisagreement: number | null;
  /** Pairable units (at least 2 values). */
  items: number;
  /** n: the values in pairable units. */
  pairableValues: number;
}

/**
 * Nominal Krippendorff's alpha of a units × categories count matrix (`counts[u][c]`: coders who
 * gave unit u value c; missing values are simply not counted).
 */
export function krippendorffAlpha(counts: readonly (readonly number[])[]): KrippendorffAlphaValues {
  const table = tableFromCounts(counts, 'krippendorffAlpha');
  const s = accumulatePooled(table, createPooledSums(table.categories));
  const perCategory = Array.from({ length: table.categories }, (_, j) => (table.units > 0 ? orNull(alphaCategory(s, j)) : null));
  if (table.units === 0) {
    return { alpha: null, perCategory, observedDisagreement: null, expectedDisagreement: null, items: 0, pairableValues: 0 };
  }
  const n = s.values;
  return {
    alpha: orNull(alphaOverall(s)),
    perCategory,
    observedDisagreement: s.alphaDisagreement / n,
    expectedDisagreement: (n * n - s.totalSquares) / (n * (n - 1)),
    items: table.units,
    pairableValues: n,
  };
}
