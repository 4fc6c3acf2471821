import type { Rng } from './rng';

/**
 * Dense vectors for diversity sampling: `data` is row-major, `dim` values per row. Distances are
 * Euclidean in the model's own representation (what `embed` returns), as in the core-set paper
 * (Sener & Savarese, ICLR 2018): items the model represents alike are alike to it.
 */
export interface DenseRows {
  readonly data: Float32Array;
  readonly dim: number;
}

/** Squared Euclidean distance between row i of a and row j of b. */
export function sqDist(a: DenseRows, i: number, b: DenseRows, j: number): number {
  const { dim } = a;
  const ao = i * dim;
  const bo = j * b.dim;
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const diff = a.data[ao + d] - b.data[bo + d];
    s += diff * diff;
  }
  return s;
}

/** Result of kCenterGreedy: picks (indices into the rows) in order, with each pick's distance when chosen. */
export interface KCenterResult {
  readonly picks: number[];
  /** Euclidean distance of each pick to the nearest earlier pick or reference row (Infinity for a first pick with no reference). */
  readonly distances: number[];
}

/**
 * Greedy k-center (farthest-first): repeatedly takes the candidate farthest from everything
 * taken so far and from the `reference` rows (the labelled set for core-set). With `weights`
 * the next pick maximises weight x distance instead (uncertainty-weighted diversity). An exact
 * duplicate of a pick has distance 0, so it is never taken while any other candidate is left.
 * `first` (a candidate index) opens the order when there is no reference; else the largest
 * weight, else candidates[0]. Cost O(candidates x (take + reference)) distances.
 */
export function kCenterGreedy(
  rows: DenseRows,
  candidates: readonly number[],
  take: number,
  opts: { reference?: DenseRows; weights?: ArrayLike<number>; first?: number } = {},
): KCenterResult {
  const m = candidates.length;
  take = Math.min(take, m);
  const minSq = new Float64Array(m).fill(Infinity);
  const ref = opts.reference;
  if (ref && ref.data.length > 0) {
    const refCount = ref.data.length / ref.dim;
    for (let c = 0; c < m; c++) {
      for (let r = 0; r < refCount; r++) minSq[c] = Math.min(minSq[c], sqDist(rows, candidates[c], ref, r));
    }
  }
  const weightOf = (c: number) => (opts.weights ? Math.max(0, opts.weights[c]) : 1);
  const taken = new Uint8Array(m);
  const picks: number[] = [];
  const distances: number[] = [];
  for (let t = 0; t < take; t++) {
    let next = -1;
    let best = -Infinity;
    if (t === 0 && !(ref && ref.data.length > 0) && opts.first !== undefined) {
      next = opts.first;
    } else {
      for (let c = 0; c < m; c++) {
        if (taken[c]) continue;
        // With no reference yet every distance is Infinity: fall back to the weight alone.
        const value = minSq[c] === Infinity ? weightOf(c) * 1e300 : weightOf(c) * Math.sqrt(minSq[c]);
        if (value > best) [best, next] = [value, c];
      }
    }
    taken[next] = 1;
    picks.push(candidates[next]);
    distances.push(Math.sqrt(minSq[next]));
    for (let c = 0; c < m; c++) {
      if (!taken[c]) minSq[c] = Math.min(minSq[c], sqDist(rows, candidates[c], rows, candidates[next]));
    }
  }
  return { picks, distances };
}

/**
 * k-means++ seeding over the candidates (Arthur & Vassilvitskii 2007): each next pick drawn with
 * probability proportional to its squared distance to the nearest pick (times `weights` when
 * given). Used as a sampler in its own right by BADGE. When every remaining candidate
 * duplicates a pick, the rest are taken in candidate order.
 */
export function kMeansPlusPlus(rows: DenseRows, candidates: readonly number[], take: number, rng: Rng, weights?: ArrayLike<number>): number[] {
  const m = candidates.length;
  take = Math.min(take, m);
  const minSq = new Float64Array(m).fill(Infinity);
  const taken = new Uint8Array(m);
  const picks: number[] = [];
  let next = Math.min(m - 1, Math.floor(rng() * m));
  while (picks.length < take) {
    taken[next] = 1;
    picks.push(candidates[next]);
    let total = 0;
    for (let c = 0; c < m; c++) {
      if (taken[c]) continue;
      minSq[c] = Math.min(minSq[c], sqDist(rows, candidates[c], rows, candidates[next]));
      total += minSq[c] * (weights ? Math.max(0, weights[c]) : 1);
    }
    if (picks.length >= take) break;
    next = -1;
    if (total > 0) {
      let r = rng() * total;
      for (let c = 0; c < m; c++) {
        if (taken[c]) continue;
        const w = minSq[c] * (weights ? Math.max(0, weights[c]) : 1);
        if (w <= 0) continue;
        next = c;
        r -= w;
        if (r <= 0) break;
      }
    }
    if (next < 0) next = taken.indexOf(0);
  }
  return picks;
}

/** Result of denseKMeans: cluster of each candidate (by position), and each cluster's most central candidate. */
export interface DenseClustering {
  readonly assign: Int32Array;
  /** Per cluster: position (into candidates) of the member nearest its centroid, -1 if empty. */
  readonly medoids: Int32Array;
  readonly sizes: Int32Array;
  readonly k: number;
}

/**
 * Euclidean k-means over the candidate rows: k-means++ seeding, at most `iterations` Lloyd
 * iterations. The medoid (member nearest the centroid) of each cluster is typical of a dense
 * region, which is what a representative pick should be.
 */
export function denseKMeans(rows: DenseRows, candidates: readonly number[], k: number, rng: Rng, iterations = 10): DenseClustering {
  const m = candidates.length;
  const dim = rows.dim;
  k = Math.max(0, Math.min(k, m));
  const centers = new Float32Array(k * dim);
  kMeansPlusPlus(rows, candidates, k, rng).forEach((row, j) => centers.set(rows.data.subarray(row * dim, (row + 1) * dim), j * dim));
  const centerRows: DenseRows = { data: centers, dim };
  const assign = new Int32Array(m);
  const nearestSq = new Float64Array(m);
  const assignAll = () => {
    let changed = false;
    for (let c = 0; c < m; c++) {
      let best = 0;
      let bestSq = Infinity;
      for (let j = 0; j < k; j++) {
        const d = sqDist(rows, candidates[c], centerRows, j);
        if (d < bestSq) [bestSq, best] = [d, j];
      }
      if (assign[c] !== best) changed = true;
      assign[c] = best;
      nearestSq[c] = bestSq;
    }
    return changed;
  };
  assignAll();
  const sizes = new Int32Array(k);
  for (let iter = 0; iter < iterations; iter++) {
    centers.fill(0);
    sizes.fill(0);
    for (let c = 0; c < m; c++) {
      const j = assign[c];
      sizes[j]++;
      const ro = candidates[c] * dim;
      for (let d = 0; d < dim; d++) centers[j * dim + d] += rows.data[ro + d];
    }
    for (let j = 0; j < k; j++) if (sizes[j] > 0) for (let d = 0; d < dim; d++) centers[j * dim + d] /= sizes[j];
    if (!assignAll()) break;
  }
  sizes.fill(0);
  const medoids = new Int32Array(k).fill(-1);
  const medoidSq = new Float64Array(k).fill(Infinity);
  for (let c = 0; c < m; c++) {
    const j = assign[c];
    sizes[j]++;
    if (nearestSq[c] < medoidSq[j]) [medoidSq[j], medoids[j]] = [nearestSq[c], c];
  }
  return { assign, medoids, sizes, k };
}
