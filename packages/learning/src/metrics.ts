/** Precision, recall and F1 of one class. */
export interface ClassMetrics {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Number of true examples of the class. */
  readonly support: number;
}

/** Scores of one set of predictions. */
export interface Evaluation {
  readonly accuracy: number;
  readonly macroF1: number;
  /** One entry per label, in the order of `labels`. */
  readonly perClass: ClassMetrics[];
}

/**
 * Accuracy, macro-F1 and per-class scores. Macro-F1 averages over the classes that occur in
 * yTrue or yPred (scikit-learn's default): a class nobody has and nobody predicts has no
 * defined F1 and would only drag the average to 0, while a class predicted but absent still
 * counts (its F1 is 0) because those predictions are wrong. Undefined ratios count as 0.
 */
export function evaluate(yTrue: number[], yPred: number[], labels: string[]): Evaluation {
  if (yTrue.length !== yPred.length) throw new RangeError('yTrue and yPred differ in length');
  const k = labels.length;
  const truePos = new Array<number>(k).fill(0);
  const support = new Array<number>(k).fill(0);
  const predicted = new Array<number>(k).fill(0);
  let correct = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i];
    const p = yPred[i];
    if (!(t >= 0 && t < k && p >= 0 && p < k)) throw new RangeError(`class index outside [0, ${k}) at ${i}`);
    support[t]++;
    predicted[p]++;
    if (t === p) {
      truePos[t]++;
      correct++;
    }
  }
  const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
  const perClass = labels.map((label, c) => {
    const precision = ratio(truePos[c], predicted[c]);
    const recall = ratio(truePos[c], support[c]);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: support[c] };
  });
  const counted = perClass.filter((_, c) => support[c] > 0 || predicted[c] > 0);
  return {
    accuracy: ratio(correct, yTrue.length),
    macroF1: ratio(counted.reduce((s, m) => s + m.f1, 0), counted.length),
    perClass,
  };
}

/** Index of the largest probability in each row of an n x numClasses matrix (first on ties). */
export function argmaxRows(probs: Float32Array, numClasses: number): number[] {
  const out: number[] = [];
  for (let off = 0; off < probs.length; off += numClasses) {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (probs[off + c] > probs[off + best]) best = c;
    out.push(best);
  }
  return out;
}
