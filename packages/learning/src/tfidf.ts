import { featurize, type FeatureConfig } from './features';

/** A sparse, L2-normalised TF-IDF vector over hashed feature buckets. */
export interface SparseVector {
  readonly ids: Uint32Array;
  readonly weights: Float32Array;
}

/**
 * Binary-TF x smoothed-IDF vectors of texts, L2-normalised, with IDF taken from these texts.
 * IDF matters here: shared character n-grams ("<wh", "at>") would otherwise make every
 * question look alike.
 */
export function tfidfVectors(texts: string[], cfg: FeatureConfig): SparseVector[] {
  const features = texts.map((t) => featurize(t, cfg));
  const df = new Map<number, number>();
  for (const ids of features) for (const id of ids) df.set(id, (df.get(id) ?? 0) + 1);
  const n = texts.length;
  return features.map((ids) => {
    const weights = Float32Array.from(ids, (id) => Math.log((1 + n) / (1 + (df.get(id) ?? 0))) + 1);
    let norm = 0;
    for (const w of weights) norm += w * w;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < weights.length; k++) weights[k] /= norm;
    return { ids, weights };
  });
}

/**
 * Cosine similarity of `center` to every vector. `scratch` is a zeroed Float32Array with one
 * slot per bucket: scattering the center into it makes each dot product a walk over one
 * vector's ids, and it is zeroed again before returning.
 */
export function cosineToAll(center: SparseVector, vectors: SparseVector[], scratch: Float32Array, out: Float32Array): Float32Array {
  for (let k = 0; k < center.ids.length; k++) scratch[center.ids[k]] = center.weights[k];
  for (let i = 0; i < vectors.length; i++) {
    const { ids, weights } = vectors[i];
    let dot = 0;
    for (let k = 0; k < ids.length; k++) dot += scratch[ids[k]] * weights[k];
    out[i] = dot;
  }
  for (let k = 0; k < center.ids.length; k++) scratch[center.ids[k]] = 0;
  return out;
}
