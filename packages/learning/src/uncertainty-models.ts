import { softmaxHead } from './model';
import type { Rng } from './rng';

/**
 * BADGE gradient embeddings (Ash et al., ICLR 2020): for a softmax head on representation x with
 * probabilities p and hypothetical label y = argmax p, the gradient of the cross-entropy with
 * respect to the head weights is (p - onehot(y)) outer x. Its norm grows with uncertainty and
 * its direction with what the item would teach, so k-means++ over these trades the two off.
 * Returns n x (numClasses * dim), row-major.
 */
export function badgeEmbeddings(probs: Float32Array, numClasses: number, embeddings: Float32Array, dim: number): Float32Array {
  const n = probs.length / numClasses;
  const out = new Float32Array(n * numClasses * dim);
  for (let i = 0; i < n; i++) {
    let top = 0;
    for (let c = 1; c < numClasses; c++) if (probs[i * numClasses + c] > probs[i * numClasses + top]) top = c;
    for (let c = 0; c < numClasses; c++) {
      const g = probs[i * numClasses + c] - (c === top ? 1 : 0);
      const o = (i * numClasses + c) * dim;
      for (let d = 0; d < dim; d++) out[o + d] = g * embeddings[i * dim + d];
    }
  }
  return out;
}

/**
 * BALD (Houlsby et al. 2011) under MC dropout (Gal, Islam & Ghahramani 2017): mutual information
 * between the label and the model, H(mean_t p_t) - mean_t H(p_t), over `passes` forward passes
 * of the softmax head with inverted dropout at `rate` on its input (the pooled representation).
 * A project on bald trains its models with dropout at that same rate on that same layer
 * (trainOptionsFor), so the passes sample the dropout posterior training fitted; the passes
 * reuse the pooled vectors and need no TF.js. Returns one score per row, in nats, 0 when every
 * pass agrees.
 */
export function baldScores(
  embeddings: Float32Array,
  dim: number,
  weights: Float32Array,
  bias: Float32Array,
  passes: number,
  rate: number,
  rng: Rng,
): Float32Array {
  const k = bias.length;
  const n = embeddings.length / dim;
  const x = new Float32Array(dim);
  const p = new Float32Array(k);
  const mean = new Float64Array(k);
  const scores = new Float32Array(n);
  const keep = 1 - rate;
  const entropy = (row: ArrayLike<number>) => {
    let h = 0;
    for (let c = 0; c < k; c++) if (row[c] > 0) h -= row[c] * Math.log(row[c]);
    return h;
  };
  for (let i = 0; i < n; i++) {
    mean.fill(0);
    let meanEntropy = 0;
    for (let t = 0; t < passes; t++) {
      for (let d = 0; d < dim; d++) x[d] = rng() < keep ? embeddings[i * dim + d] / keep : 0;
      softmaxHead(x, 0, weights, bias, dim, p, 0);
      for (let c = 0; c < k; c++) mean[c] += p[c] / passes;
      meanEntropy += entropy(p) / passes;
    }
    scores[i] = Math.max(0, entropy(mean) - meanEntropy);
  }
  return scores;
}
