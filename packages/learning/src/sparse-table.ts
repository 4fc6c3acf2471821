import { axpy } from './axpy';
import type { PoolPlan } from './model';

/**
 * The embedding table's half of training, in plain TypeScript: gathers a mini-batch's gradient
 * for just the rows its texts touched and applies row-wise Adagrad to those rows only. A dense
 * TF.js gradient would touch every one of the 2^18 x dim weights each step; fastText's trick
 * is the same sparsity.
 */
export class SparseTableTrainer {
  /** Row-wise Adagrad state: one accumulated mean squared gradient per row. */
  private readonly accum: Float32Array;
  /** row -> slot in `grad` during a batch, -1 otherwise. */
  private readonly slotOf: Int32Array;
  private rows: number[] = [];
  private grad = new Float32Array(0);

  constructor(
    private readonly table: Float32Array,
    private readonly dim: number,
    private readonly learningRate: number,
  ) {
    const rows = table.length / dim;
    this.accum = new Float32Array(rows);
    this.slotOf = new Int32Array(rows).fill(-1);
  }

  /**
   * Adds one text's share of dLoss/dTable: pooled = sum(coefs[k] * table[rows[k]]), so row
   * rows[k] receives coefs[k] * dLoss/dPooled (dPooled[offset..offset+dim)).
   */
  accumulate(plan: PoolPlan, dPooled: Float32Array, offset: number): void {
    const dim = this.dim;
    const { rows, coefs } = plan;
    const slotOf = this.slotOf;
    for (let k = 0; k < rows.length; k++) {
      let slot = slotOf[rows[k]];
      if (slot < 0) {
        slot = this.rows.length;
        slotOf[rows[k]] = slot;
        this.rows.push(rows[k]);
        if ((slot + 1) * dim > this.grad.length) this.grow((slot + 1) * dim);
      }
      axpy(this.grad, slot * dim, coefs[k], dPooled, offset, dim);
    }
  }

  /** The rows touched since the last apply and their gradients, for gradient checks. */
  pending(): Map<number, Float32Array> {
    const out = new Map<number, Float32Array>();
    this.rows.forEach((row, slot) => out.set(row, this.grad.slice(slot * this.dim, (slot + 1) * this.dim)));
    return out;
  }

  /** Applies the accumulated gradient with row-wise Adagrad, then clears it. */
  apply(rateFactor = 1): void {
    const { dim, grad, table, accum, slotOf, rows } = this;
    const rate = this.learningRate * rateFactor;
    for (let slot = 0; slot < rows.length; slot++) {
      const row = rows[slot];
      const g = slot * dim;
      let sq = 0;
      for (let d = 0; d < dim; d++) sq += grad[g + d] * grad[g + d];
      accum[row] += sq / dim;
      const step = rate / (Math.sqrt(accum[row]) + 1e-8);
      axpy(table, row * dim, -step, grad, g, dim);
      slotOf[row] = -1;
    }
    grad.fill(0, 0, rows.length * dim);
    this.rows = [];
  }

  private grow(min: number): void {
    const next = new Float32Array(Math.max(min, this.grad.length * 2, 1024));
    next.set(this.grad);
    this.grad = next;
  }
}
