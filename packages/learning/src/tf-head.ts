import * as tf from '@tensorflow/tfjs';

/** Initial head weights, flat and row-major, as TrainedModel stores them. */
export interface HeadWeights {
  hiddenWeights: Float32Array;
  hiddenBias: Float32Array;
  outWeights: Float32Array;
  outBias: Float32Array;
}

/** Adam whose learning rate the trainer can lower as training progresses. */
class ScheduledAdam extends tf.AdamOptimizer {
  constructor(private readonly baseRate: number) {
    super(baseRate, 0.9, 0.999);
  }

  /** Sets the rate to baseRate * factor. */
  scale(factor: number): void {
    this.learningRate = this.baseRate * factor;
  }
}

/**
 * The dense part of the classifier in TF.js: pooled embedding -> (ReLU hidden) -> softmax, its
 * weighted cross-entropy, TF.js autodiff and a TF.js Adam optimizer. Besides updating its own
 * weights, each step returns dLoss/dPooled so the caller can update embedding rows sparsely;
 * that is what keeps the 2^18-row table (and UnsortedSegmentSum) out of TF.js's gradient.
 */
export class TfHead {
  private readonly vars: tf.Variable[];
  private readonly optimizer: ScheduledAdam;

  constructor(
    init: HeadWeights,
    private readonly dim: number,
    private readonly hidden: number,
    private readonly numClasses: number,
    learningRate: number,
  ) {
    const inDim = hidden > 0 ? hidden : dim;
    this.vars = [
      tf.variable(tf.tensor2d(init.outWeights, [inDim, numClasses])),
      tf.variable(tf.tensor1d(init.outBias)),
    ];
    if (hidden > 0) {
      this.vars.push(tf.variable(tf.tensor2d(init.hiddenWeights, [dim, hidden])), tf.variable(tf.tensor1d(init.hiddenBias)));
    }
    this.optimizer = new ScheduledAdam(learningRate);
  }

  /** Logits for pooled rows x: the one definition shared by training and predictProbaTf. */
  static logits(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor, w1?: tf.Tensor, b1?: tf.Tensor): tf.Tensor2D {
    const h = w1 && b1 ? tf.relu(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1)) : x;
    return tf.add(tf.matMul(h as tf.Tensor2D, w as tf.Tensor2D), b);
  }

  /**
   * One optimisation step on `rows` pooled examples. `target` holds, per row, the example's
   * weight / rows at its gold class and 0 elsewhere, so the loss is the weighted mean
   * cross-entropy. Returns the loss and dLoss/dPooled (rows x dim).
   */
  step(pooled: Float32Array, target: Float32Array, rows: number): { loss: number; dPooled: Float32Array } {
    return tf.tidy(() => {
      const x = tf.tensor2d(pooled, [rows, this.dim]);
      const t = tf.tensor2d(target, [rows, this.numClasses]);
      const lossOf = (...args: tf.Tensor[]) => {
        const [xi, w, b, w1, b1] = args;
        return tf.neg(tf.sum(tf.mul(tf.logSoftmax(TfHead.logits(xi as tf.Tensor2D, w, b, w1, b1)), t))) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(lossOf)([x, ...this.vars]);
      this.optimizer.applyGradients(this.vars.map((v, i) => ({ name: v.name, tensor: grads[i + 1] })));
      return { loss: value.dataSync()[0], dPooled: grads[0].dataSync() as Float32Array };
    });
  }

  /** Scales the optimiser's learning rate (1 = as constructed). */
  scaleLearningRate(factor: number): void {
    this.optimizer.scale(factor);
  }

  /** Copies the trained weights out as flat arrays. */
  read(): HeadWeights {
    const [w, b, w1, b1] = this.vars.map((v) => v.dataSync() as Float32Array);
    const empty = new Float32Array(0);
    return { outWeights: w.slice(), outBias: b.slice(), hiddenWeights: w1?.slice() ?? empty, hiddenBias: b1?.slice() ?? empty };
  }

  dispose(): void {
    this.optimizer.dispose();
    for (const v of this.vars) v.dispose();
  }
}
