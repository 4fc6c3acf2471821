import { normal, type Rng } from './rng';
import type { TrainOptions } from './train';

/** Throws a RangeError naming the first thing wrong with a training set. */
export function checkInputs(texts: string[], labels: number[], numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError('numClasses must be an integer >= 2');
  if (texts.length !== labels.length) throw new RangeError('texts and labels differ in length');
  if (texts.length === 0) throw new RangeError('no training examples');
  for (const y of labels) {
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new RangeError(`label ${y} outside [0, ${numClasses})`);
  }
}

/** Per-class loss weights: all 1, 'balanced' (n / (k * count)), or given explicitly. */
export function classWeights(labels: number[], k: number, spec: TrainOptions['classWeight']): Float32Array {
  if (typeof spec === 'object') {
    if (spec.length !== k) throw new RangeError('classWeight needs one weight per class');
    return Float32Array.from(spec);
  }
  const w = new Float32Array(k).fill(1);
  if (spec !== 'balanced') return w;
  const counts = new Float32Array(k);
  for (const y of labels) counts[y]++;
  // Classes absent from the labels keep weight 1: they have no examples to weigh anyway.
  for (let c = 0; c < k; c++) if (counts[c] > 0) w[c] = labels.length / (k * counts[c]);
  return w;
}

/** Glorot-normal weights from the seeded generator (TF.js initialisers take no per-run seed stream). */
export function glorot(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const w = new Float32Array(fanIn * fanOut);
  const std = Math.sqrt(2 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = std * normal(rng);
  return w;
}
