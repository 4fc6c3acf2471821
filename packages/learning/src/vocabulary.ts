import { buildRowOf } from './model';

/** How n-grams are weighted in the pooled embedding. */
export type Weighting = 'idf' | 'none';

/** The training set's buckets, each given a compact table row and a pooling weight. */
export interface Vocabulary {
  /** Bucket id of each row, most frequent bucket first. */
  readonly rowBuckets: Uint32Array;
  readonly rowOf: Int32Array;
  readonly rowWeights: Float32Array;
  readonly unseenWeight: number;
}

/**
 * Gives every bucket the training texts use a row of a compact table. A 2^18-row table is mostly
 * rows no text touches; a compact one is a fraction of the memory and far kinder to the cache,
 * and ordering rows by frequency keeps the hot rows (common character n-grams) together.
 * With 'idf', each row's weight is the smoothed IDF ln((1+N)/(1+df)) + 1 over the training
 * texts, so rare, telling n-grams outweigh ubiquitous character n-grams in the pooled vector.
 */
export function buildVocabulary(features: Uint32Array[], buckets: number, weighting: Weighting): Vocabulary {
  const df = new Uint32Array(buckets);
  let seen = 0;
  for (const ids of features) {
    for (let k = 0; k < ids.length; k++) if (df[ids[k]]++ === 0) seen++;
  }
  const rowBuckets = new Uint32Array(seen);
  let n = 0;
  for (let b = 0; b < buckets; b++) if (df[b] > 0) rowBuckets[n++] = b;
  // Frequency descending, bucket id ascending on ties, so the layout is deterministic.
  rowBuckets.sort((a, b) => df[b] - df[a] || a - b);
  const docs = features.length;
  const M = Number(process.env.IDF_M ?? 1);
  const idf = (count: number) => (weighting === "idf" ? Math.log((M + docs) / (M + count)) + 1 : 1);
  return {
    rowBuckets,
    rowOf: buildRowOf(rowBuckets, buckets),
    rowWeights: Float32Array.from(rowBuckets, (b) => idf(df[b])),
    unseenWeight: idf(0),
  };
}
