import { resolveFeatureConfig, type FeatureConfig } from './features';
import { sphericalKMeans } from './kmeans';
import { createRng, permutation } from './rng';
import { cosineToAll, tfidfVectors, type SparseVector } from './tfidf';

/**
 * Word 1-2-grams only: clustering cost grows with features per text, and on trec the medoids
 * from word features covered classes and trained first models as well as with character
 * n-grams added, at a third of the time.
 */
const COLD_START_FEATURES: Partial<FeatureConfig> = { charNgramMax: 0 };

/** Options of coldStartOrder. */
export interface ColdStartOptions {
  seed: number;
  /** Features to cluster on; default word 1-2-grams (no character n-grams). */
  featureConfig?: Partial<FeatureConfig>;
  /** Texts clustered for the ordered part; the others follow in seeded random order. Default 5000. */
  maxCandidates?: number;
  /** Number of clusters, i.e. of representatives that open the order. Default 50. */
  clusters?: number;
}

/**
 * An order in which to label a pool that has no labels yet: every index once, the head
 * representative and diverse. A seeded sample of at most maxCandidates texts is clustered by
 * spherical k-means over L2-normalised hashed TF-IDF vectors. The order opens with each
 * cluster's most central member (its medoid), the medoids in farthest-first order starting
 * from the largest cluster's; then each cluster's second most central member, and so on; then
 * the texts outside the sample in random order.
 *
 * Why not farthest-first (k-center) over all texts: in sparse TF-IDF space nearly every pair
 * is far apart and farthest-first favours outliers; medoids are typical of their cluster, and
 * ordering them farthest-first puts distinct small clusters (rare classes) early.
 */
export function coldStartOrder(texts: string[], opts: ColdStartOptions): number[] {
  const rng = createRng(opts.seed);
  const shuffled = permutation(texts.length, rng);
  const m = Math.min(texts.length, opts.maxCandidates ?? 5000);
  if (m === 0) return [];
  const candidates = shuffled.subarray(0, m);
  const cfg = resolveFeatureConfig(opts.featureConfig ?? COLD_START_FEATURES);
  const vectors = tfidfVectors(Array.from(candidates, (i) => texts[i]), cfg);
  const scratch = new Float32Array(cfg.buckets);
  const { assign, similarity, k } = sphericalKMeans(vectors, opts.clusters ?? 50, scratch, rng);

  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < m; i++) members[assign[i]].push(i);
  // Most central first within a cluster; sample position breaks ties, so the seed decides.
  for (const list of members) list.sort((a, b) => similarity[b] - similarity[a] || a - b);
  const bySize = members.map((_, j) => j).filter((j) => members[j].length > 0);
  bySize.sort((a, b) => members[b].length - members[a].length || a - b);
  const clusters = farthestFirst(bySize.map((j) => vectors[members[j][0]]), scratch).map((i) => bySize[i]);

  const order: number[] = [];
  for (let round = 0; order.length < m; round++) {
    for (const j of clusters) if (round < members[j].length) order.push(candidates[members[j][round]]);
  }
  for (let i = m; i < texts.length; i++) order.push(shuffled[i]);
  return order;
}

/** Greedy k-center order of the vectors (cosine distance), starting from the first. */
function farthestFirst(vectors: SparseVector[], scratch: Float32Array): number[] {
  const n = vectors.length;
  const minDist = new Float32Array(n).fill(Infinity);
  const sims = new Float32Array(n);
  const taken = new Uint8Array(n);
  const order: number[] = [];
  for (let next = 0; next >= 0; ) {
    taken[next] = 1;
    order.push(next);
    cosineToAll(vectors[next], vectors, scratch, sims);
    next = -1;
    for (let i = 0; i < n; i++) {
      minDist[i] = Math.min(minDist[i], 1 - sims[i]);
      if (!taken[i] && (next < 0 || minDist[i] > minDist[next])) next = i;
    }
  }
  return order;
}
