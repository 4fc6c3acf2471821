import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend';
import { poolRows, type PoolPlan } from './model';
import { createRng, normal } from './rng';
import { SparseTableTrainer } from './sparse-table';
import { TfHead } from './tf-head';

// The trainer splits backpropagation in two: TF.js differentiates the head and returns
// dLoss/dPooled, and SparseTableTrainer turns that into per-row table gradients by hand. These
// tests check the hand-written half against TF.js differentiating the whole model (the lookup
// written as a dense pooling matrix times the table, which every backend can differentiate)
// and against central differences in float64.

const V = 12; // table rows
const DIM = 5;
const K = 3;

const rng = createRng(11);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * normal(rng));
const table = randn(V * DIM, 0.5);
const plans: PoolPlan[] = [
  { rows: Uint32Array.from([0, 3, 7]), coefs: Float32Array.from([0.2, 0.5, 0.3]) },
  { rows: Uint32Array.from([3, 4]), coefs: Float32Array.from([0.7, 0.7]) },
  { rows: Uint32Array.from([1, 7, 9, 11]), coefs: Float32Array.from([0.25, 0.25, 0.25, 0.25]) },
];
const B = plans.length;
// target[b, y_b] = weight_b / B: weighted mean cross-entropy, as train.ts builds it.
const target = Float32Array.from([0, 1 / B, 0, 2 / B, 0, 0, 0, 0, 0.5 / B]);

function pooledBatch(t: Float32Array): Float32Array {
  const out = new Float32Array(B * DIM);
  plans.forEach((p, b) => poolRows(t, DIM, p, out, b * DIM));
  return out;
}

/** Hand gradient: TfHead's dPooled pushed through SparseTableTrainer (learning rate 0: no update). */
function handGradient(hidden: number, head: Parameters<typeof makeHead>[0]): Map<number, Float32Array> {
  const tfHead = makeHead(head, hidden);
  const sparse = new SparseTableTrainer(table.slice(), DIM, 0);
  const { dPooled } = tfHead.step(pooledBatch(table), target, B);
  plans.forEach((p, b) => sparse.accumulate(p, dPooled, b * DIM));
  tfHead.dispose();
  return sparse.pending();
}

function makeHead(w: { w: Float32Array; b: Float32Array; w1: Float32Array; b1: Float32Array }, hidden: number): TfHead {
  return new TfHead({ outWeights: w.w, outBias: w.b, hiddenWeights: w.w1, hiddenBias: w.b1 }, DIM, hidden, K, 0);
}

function headWeights(hidden: number) {
  const inDim = hidden || DIM;
  return { w: randn(inDim * K), b: randn(K, 0.1), w1: randn(DIM * hidden), b1: randn(hidden, 0.1) };
}

/** Stock TF.js gradient of the same loss with respect to the whole table. */
function stockGradient(hidden: number, h: ReturnType<typeof headWeights>): Float32Array {
  const pooling = new Float32Array(B * V);
  plans.forEach((p, b) => p.rows.forEach((r, k) => (pooling[b * V + r] += p.coefs[k])));
  return tf.tidy(() => {
    const P = tf.tensor2d(pooling, [B, V]);
    const T = tf.tensor2d(table, [V, DIM]);
    const w = tf.tensor2d(h.w, [hidden || DIM, K]);
    const bias = tf.tensor1d(h.b);
    const [w1, b1] = hidden ? [tf.tensor2d(h.w1, [DIM, hidden]), tf.tensor1d(h.b1)] : [undefined, undefined];
    const t = tf.tensor2d(target, [B, K]);
    const loss = (tt: tf.Tensor) => tf.neg(tf.sum(tf.mul(tf.logSoftmax(TfHead.logits(tf.matMul(P, tt as tf.Tensor2D), w, bias, w1, b1)), t))) as tf.Scalar;
    return tf.grad(loss)(T).dataSync() as Float32Array;
  });
}

/** The loss in float64 plain JS, for central differences. */
function lossF64(t: Float64Array, hidden: number, h: ReturnType<typeof headWeights>): number {
  let total = 0;
  plans.forEach((p, b) => {
    const x = new Float64Array(DIM);
    p.rows.forEach((r, k) => {
      for (let d = 0; d < DIM; d++) x[d] += p.coefs[k] * t[r * DIM + d];
    });
    let rep: Float64Array = x;
    if (hidden) {
      rep = new Float64Array(hidden);
      for (let j = 0; j < hidden; j++) {
        let s = h.b1[j];
        for (let d = 0; d < DIM; d++) s += x[d] * h.w1[d * hidden + j];
        rep[j] = Math.max(0, s);
      }
    }
    const logits = Array.from({ length: K }, (_, c) => rep.reduce((s, v, i) => s + v * h.w[i * K + c], h.b[c]));
    const max = Math.max(...logits);
    const lse = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
    for (let c = 0; c < K; c++) total -= target[b * K + c] * (logits[c] - lse);
  });
  return total;
}

beforeAll(async () => {
  await initBackend();
});

describe.each([0, 4])('table gradient (hidden %i)', (hidden) => {
  const h = headWeights(hidden);
  let hand: Map<number, Float32Array>;
  let stock: Float32Array;
  beforeAll(() => {
    hand = handGradient(hidden, h);
    stock = stockGradient(hidden, h);
  });

  it('matches stock TF.js autodiff on touched rows and is zero elsewhere', () => {
    for (let r = 0; r < V; r++) {
      const row = stock.subarray(r * DIM, (r + 1) * DIM);
      const mine = hand.get(r) ?? new Float32Array(DIM);
      if (!hand.has(r)) expect(Math.max(...row.map(Math.abs))).toBe(0);
      for (let d = 0; d < DIM; d++) expect(mine[d]).toBeCloseTo(row[d], 5);
    }
    expect([...hand.keys()].sort((a, b) => a - b)).toEqual([0, 1, 3, 4, 7, 9, 11]);
  });

  it('matches central differences', () => {
    const eps = 1e-5;
    const t = Float64Array.from(table);
    for (const r of hand.keys()) {
      for (let d = 0; d < DIM; d++) {
        const i = r * DIM + d;
        const saved = t[i];
        t[i] = saved + eps;
        const up = lossF64(t, hidden, h);
        t[i] = saved - eps;
        const down = lossF64(t, hidden, h);
        t[i] = saved;
        expect(hand.get(r)![d]).toBeCloseTo((up - down) / (2 * eps), 4);
      }
    }
  });
});

describe('SparseTableTrainer.apply', () => {
  it('moves only touched rows, against the gradient', () => {
    const t = new Float32Array(V * DIM).fill(1);
    const sparse = new SparseTableTrainer(t, DIM, 0.1);
    const dPooled = Float32Array.from({ length: DIM }, (_, d) => d + 1);
    sparse.accumulate({ rows: Uint32Array.from([2, 5]), coefs: Float32Array.from([1, -1]) }, dPooled, 0);
    sparse.apply();
    for (let r = 0; r < V; r++) {
      for (let d = 0; d < DIM; d++) {
        const v = t[r * DIM + d];
        if (r === 2) expect(v).toBeLessThan(1);
        else if (r === 5) expect(v).toBeGreaterThan(1);
        else expect(v).toBe(1);
      }
    }
    expect(sparse.pending().size).toBe(0);
  });
});
