import * as tf from '@tensorflow/tfjs';
import { featurize } from './features';
import { denseRelu, headInputDim, planPooling, poolText, softmaxHead, type TrainedModel } from './model';
import { TfHead } from './tf-head';

/**
 * Class probabilities, row-major n x numClasses, in plain TypeScript over the model's weights:
 * the fast path (an order of magnitude above TF.js for a model this small).
 */
export function predictProba(model: TrainedModel, texts: string[]): Float32Array {
  const k = model.numClasses;
  const rep = embed(model, texts);
  const inDim = headInputDim(model);
  const out = new Float32Array(texts.length * k);
  for (let i = 0; i < texts.length; i++) softmaxHead(rep, i * inDim, model.outWeights, model.outBias, inDim, out, i * k);
  return out;
}

/**
 * The dense representation the softmax sees (the hidden layer's output, or the pooled
 * embedding when there is none), row-major n x (hidden || dim); for diversity sampling.
 */
export function embed(model: TrainedModel, texts: string[]): Float32Array {
  const { dim, hidden } = model;
  const pooled = new Float32Array(dim);
  const acc = new Float64Array(dim);
  const inDim = headInputDim(model);
  const out = new Float32Array(texts.length * inDim);
  for (let i = 0; i < texts.length; i++) {
    const ids = featurize(texts[i], model.featureConfig);
    if (hidden > 0) {
      poolText(model, ids, pooled, 0, acc);
      denseRelu(pooled, 0, model.hiddenWeights, model.hiddenBias, dim, out, i * inDim);
    } else {
      poolText(model, ids, out, i * dim, acc);
    }
  }
  return out;
}

/**
 * The same probabilities computed in TF.js (gather over padded rows, sum weighted by the
 * pooling coefficients with padding masked to 0, head, softmax): the reference the fast path is tested against. Slow; call
 * initBackend first.
 */
export function predictProbaTf(model: TrainedModel, texts: string[]): Float32Array {
  const plans = texts.map((t) => planPooling(model, featurize(t, model.featureConfig)));
  const n = texts.length;
  const maxLen = plans.reduce((m, p) => Math.max(m, p.rows.length), 1);
  // Padding points at row 0 with coefficient 0, so it adds nothing to the weighted sum.
  const padded = new Int32Array(n * maxLen);
  const coefs = new Float32Array(n * maxLen);
  plans.forEach((p, i) => {
    padded.set(p.rows, i * maxLen);
    coefs.set(p.coefs, i * maxLen);
  });
  return tf.tidy(() => {
    // An empty table (nothing seen in training) still needs a row for the padding to point at.
    const vocab = Math.max(1, model.rowBuckets.length);
    const table = tf.tensor2d(model.table.length ? model.table : new Float32Array(model.dim), [vocab, model.dim]);
    const gathered = tf.gather(table, tf.tensor2d(padded, [n, maxLen], 'int32'));
    const pooled = tf.sum(tf.mul(gathered, tf.tensor3d(coefs, [n, maxLen, 1])), 1) as tf.Tensor2D;
    const w = tf.tensor2d(model.outWeights, [headInputDim(model), model.numClasses]);
    const b = tf.tensor1d(model.outBias);
    const [w1, b1] = model.hidden > 0
      ? [tf.tensor2d(model.hiddenWeights, [model.dim, model.hidden]), tf.tensor1d(model.hiddenBias)]
      : [undefined, undefined];
    return tf.softmax(TfHead.logits(pooled, w, b, w1, b1)).dataSync() as Float32Array;
  });
}
