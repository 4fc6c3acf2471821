import { axpy } from './axpy';
import type { FeatureConfig } from './features';

/** How a text's weighted rows are normalised: by the sum of weights ('mean') or their L2 norm ('sqrt'). */
export type Pooling = 'mean' | 'sqrt';

/** What a training run recorded about itself. */
export interface TrainingMeta {
  /** TF.js backend that computed the dense math ('tensorflow', 'wasm' or 'cpu'). */
  readonly backend: string;
  readonly examples: number;
  readonly epochs: number;
  readonly steps: number;
  /** Dropout rate on the pooled embedding in training (absent in models from before it existed: 0). */
  readonly dropout?: number;
  readonly trainMs: number;
}

/**
 * A trained fastText-style embedding bag: hashed n-gram ids -> rows of `table` -> weighted,
 * normalised sum (see planPooling) -> optional ReLU hidden layer -> softmax over `numClasses`.
 * Only buckets seen in training have a row (an unseen bucket's row would be zero); all
 * weights are plain row-major Float32Arrays, so inference and serialisation need no TF.js.
 */
export interface TrainedModel {
  readonly featureConfig: FeatureConfig;
  readonly numClasses: number;
  /** Embedding width. */
  readonly dim: number;
  /** Hidden layer width; 0 means the pooled embedding feeds the softmax directly. */
  readonly hidden: number;
  readonly pooling: Pooling;
  /** Bucket id of each table row. */
  readonly rowBuckets: Uint32Array;
  /** Bucket id -> table row, -1 for buckets never seen in training. */
  readonly rowOf: Int32Array;
  /** Pooling weight of each row (IDF, or 1 without weighting). */
  readonly rowWeights: Float32Array;
  /** Pooling weight of a bucket unseen in training (counts in the norm only). */
  readonly unseenWeight: number;
  /** rowBuckets.length x dim. */
  readonly table: Float32Array;
  /** dim x hidden (empty when hidden is 0). */
  readonly hiddenWeights: Float32Array;
  readonly hiddenBias: Float32Array;
  /** (hidden || dim) x numClasses. */
  readonly outWeights: Float32Array;
  readonly outBias: Float32Array;
  readonly meta: TrainingMeta;
}

/** Width of the representation the softmax sees (and `embed` returns). */
export function headInputDim(model: Pick<TrainedModel, 'dim' | 'hidden'>): number {
  return model.hidden > 0 ? model.hidden : model.dim;
}

/** Inverse of rowBuckets, sized to the feature config's bucket count. */
export function buildRowOf(rowBuckets: Uint32Array, buckets: number): Int32Array {
  const rowOf = new Int32Array(buckets).fill(-1);
  rowBuckets.forEach((bucket, row) => (rowOf[bucket] = row));
  return rowOf;
}

/** A text's table rows and the coefficient of each in its pooled embedding. */
export interface PoolPlan {
  readonly rows: Uint32Array;
  readonly coefs: Float32Array;
}

/**
 * Which rows a text pools and with what coefficients: row weight / norm, where the norm is the
 * sum of the weights of all the text's ids ('mean') or their L2 norm ('sqrt'). Unseen buckets
 * have no row but count in the norm with `unseenWeight`: a text of mostly unknown n-grams
 * should pool to a weak vector, not to a confident one built from its one known n-gram.
 */
export function planPooling(model: Pick<TrainedModel, 'rowOf' | 'rowWeights' | 'unseenWeight' | 'pooling'>, ids: Uint32Array): PoolPlan {
  const rows = new Uint32Array(ids.length);
  const coefs = new Float32Array(ids.length);
  let n = 0;
  let norm = 0;
  for (let k = 0; k < ids.length; k++) {
    const row = model.rowOf[ids[k]];
    const w = row >= 0 ? model.rowWeights[row] : model.unseenWeight;
    norm += model.pooling === 'mean' ? w : w * w;
    if (row < 0) continue;
    rows[n] = row;
    coefs[n++] = w;
  }
  const scale = norm > 0 ? (model.pooling === 'mean' ? 1 / norm : 1 / Math.sqrt(norm)) : 0;
  for (let k = 0; k < n; k++) coefs[k] *= scale;
  return { rows: rows.subarray(0, n), coefs: coefs.subarray(0, n) };
}

/**
 * planPooling and poolRows in one pass for inference: out[offset..offset+dim) = the text's
 * pooled embedding, without allocating a plan per text. `acc` (length >= dim) is scratch; the
 * sum runs in float64, so the result can differ from poolRows' float32 sum in the 7th digit.
 */
export function poolText(model: TrainedModel, ids: Uint32Array, out: Float32Array, offset: number, acc: Float64Array): void {
  const { rowOf, rowWeights, unseenWeight, table, dim } = model;
  const mean = model.pooling === 'mean';
  acc.fill(0, 0, dim);
  let norm = 0;
  for (let k = 0; k < ids.length; k++) {
    const row = rowOf[ids[k]];
    const w = row >= 0 ? rowWeights[row] : unseenWeight;
    norm += mean ? w : w * w;
    if (row < 0) continue;
    // Four lanes at a time: pooling is most of a forward pass (same sums, same order per lane).
    const r = row * dim;
    let d = 0;
    for (; d + 3 < dim; d += 4) {
      acc[d] += w * table[r + d];
      acc[d + 1] += w * table[r + d + 1];
      acc[d + 2] += w * table[r + d + 2];
      acc[d + 3] += w * table[r + d + 3];
    }
    for (; d < dim; d++) acc[d] += w * table[r + d];
  }
  const scale = norm > 0 ? (mean ? 1 / norm : 1 / Math.sqrt(norm)) : 0;
  for (let d = 0; d < dim; d++) out[offset + d] = acc[d] * scale;
}

/** out[offset..offset+dim) = sum of coefs[k] * table[rows[k]]; zeros for an empty plan. */
export function poolRows(table: Float32Array, dim: number, plan: PoolPlan, out: Float32Array, offset: number): void {
  out.fill(0, offset, offset + dim);
  const { rows, coefs } = plan;
  for (let k = 0; k < rows.length; k++) {
    axpy(out, offset, coefs[k], table, rows[k] * dim, dim);
  }
}

/** y = relu(x W + b) for one row, in plain TypeScript (the inference path). */
export function denseRelu(x: Float32Array, xOff: number, w: Float32Array, b: Float32Array, inDim: number, out: Float32Array, outOff: number): void {
  const outDim = b.length;
  for (let j = 0; j < outDim; j++) out[outOff + j] = b[j];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xOff + i];
    const wRow = i * outDim;
    for (let j = 0; j < outDim; j++) out[outOff + j] += xi * w[wRow + j];
  }
  for (let j = 0; j < outDim; j++) if (out[outOff + j] < 0) out[outOff + j] = 0;
}

/** softmax(x W + b) for one row, written to out[outOff..outOff+numClasses). */
export function softmaxHead(x: Float32Array, xOff: number, w: Float32Array, b: Float32Array, inDim: number, out: Float32Array, outOff: number): void {
  const k = b.length;
  for (let j = 0; j < k; j++) out[outOff + j] = b[j];
  for (let i = 0; i < inDim; i++) {
    const xi = x[xOff + i];
    const wRow = i * k;
    for (let j = 0; j < k; j++) out[outOff + j] += xi * w[wRow + j];
  }
  // Subtracting the max keeps exp() finite for confident models.
  let max = -Infinity;
  for (let j = 0; j < k; j++) max = Math.max(max, out[outOff + j]);
  let sum = 0;
  for (let j = 0; j < k; j++) {
    const e = Math.exp(out[outOff + j] - max);
    out[outOff + j] = e;
    sum += e;
  }
  for (let j = 0; j < k; j++) out[outOff + j] /= sum;
}
