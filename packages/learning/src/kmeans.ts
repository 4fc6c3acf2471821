import type { Rng } from './rng';
import { cosineToAll, type SparseVector } from './tfidf';

/** Result of sphericalKMeans: each vector's cluster and its cosine to that cluster's centroid. */
export interface Clustering {
  readonly assign: Int32Array;
  readonly similarity: Float32Array;
  readonly k: number;
}

/**
 * Spherical k-means (cosine) over sparse L2-normalised vectors, seeded k-means++ initialisation,
 * at most `iterations` Lloyd iterations. `scratch` (zeroed, one slot per feature bucket) holds
 * one centroid at a time, so memory stays O(buckets) however many clusters there are.
 */
export function sphericalKMeans(vectors: SparseVector[], k: number, scratch: Float32Array, rng: Rng, iterations = 5): Clustering {
  const m = vectors.length;
  k = Math.min(k, m);
  const sims = new Float32Array(m);
  const centers = seedCenters(vectors, k, scratch, sims, rng);
  const assign = new Int32Array(m);
  const similarity = new Float32Array(m);
  const assignAll = () => {
    similarity.fill(-Infinity);
    centers.forEach((center, j) => {
      cosineToAll(center, vectors, scratch, sims);
      for (let i = 0; i < m; i++) if (sims[i] > similarity[i]) [similarity[i], assign[i]] = [sims[i], j];
    });
  };
  assignAll();
  for (let iter = 0; iter < iterations; iter++) {
    const members: number[][] = Array.from({ length: k }, () => []);
    for (let i = 0; i < m; i++) members[assign[i]].push(i);
    members.forEach((list, j) => {
      if (list.length > 0) centers[j] = centroid(list.map((i) => vectors[i]), scratch);
    });
    const before = assign.slice();
    assignAll();
    if (before.every((a, i) => a === assign[i])) break;
  }
  return { assign, similarity, k };
}

/** k-means++: each next seed drawn with probability proportional to its squared distance. */
function seedCenters(vectors: SparseVector[], k: number, scratch: Float32Array, sims: Float32Array, rng: Rng): SparseVector[] {
  const m = vectors.length;
  const minDist = new Float32Array(m).fill(Infinity);
  const centers: SparseVector[] = [];
  let next = Math.floor(rng() * m);
  while (centers.length < k) {
    centers.push(vectors[next]);
    cosineToAll(vectors[next], vectors, scratch, sims);
    let total = 0;
    for (let i = 0; i < m; i++) {
      minDist[i] = Math.min(minDist[i], Math.max(0, 1 - sims[i]));
      total += minDist[i] * minDist[i];
    }
    // All remaining points duplicate a center: any choice is as good as another.
    if (total === 0) return centers.concat(Array.from({ length: k - centers.length }, () => vectors[next]));
    let r = rng() * total;
    for (let i = 0; i < m; i++) {
      r -= minDist[i] * minDist[i];
      next = i;
      if (r <= 0 && minDist[i] > 0) break;
    }
  }
  return centers;
}

/** Normalised sum of vectors, accumulated densely in scratch (left zeroed). */
function centroid(vectors: SparseVector[], scratch: Float32Array): SparseVector {
  const touched: number[] = [];
  for (const v of vectors) {
    for (let t = 0; t < v.ids.length; t++) {
      if (scratch[v.ids[t]] === 0) touched.push(v.ids[t]);
      scratch[v.ids[t]] += v.weights[t];
    }
  }
  const ids = Uint32Array.from(touched);
  const weights = Float32Array.from(ids, (id) => scratch[id]);
  let norm = 0;
  for (const w of weights) norm += w * w;
  norm = Math.sqrt(norm) || 1;
  for (let t = 0; t < weights.length; t++) weights[t] /= norm;
  for (const id of ids) scratch[id] = 0;
  return { ids, weights };
}
