import { initBackend } from './backend';
import { featurize, resolveFeatureConfig, type FeatureConfig } from './features';
import { planPooling, poolRows, type Pooling, type TrainedModel } from './model';
import { createRng, normal, permutation, type Rng } from './rng';
import { SparseTableTrainer } from './sparse-table';
import { TfHead, type HeadWeights } from './tf-head';
import { buildVocabulary, type Weighting } from './vocabulary';

/** Progress reported after each epoch. */
export interface EpochInfo {
  readonly epoch: number;
  readonly epochs: number;
  /** Mean weighted cross-entropy over the epoch's mini-batches. */
  readonly loss: number;
  readonly backend: string;
  readonly elapsedMs: number;
}

/** Training knobs; every one has a default that was fixed once for all datasets. */
export interface TrainOptions {
  epochs?: number;
  /** Learning rate of the embedding table's row-wise Adagrad. */
  learningRate?: number;
  /** Learning rate of the TF.js Adam that trains the dense head. */
  headLearningRate?: number;
  dim?: number;
  /** Hidden ReLU layer width; 0 (default) is fastText's linear head. */
  hidden?: number;
  batchSize?: number;
  pooling?: Pooling;
  /** 'idf' weights each n-gram by its IDF over the training texts in the pooled embedding. */
  weighting?: Weighting;
  /** Small label sets get extra epochs until at least this many mini-batch steps are taken. */
  minSteps?: number;
  seed?: number;
  featureConfig?: Partial<FeatureConfig>;
  /** 'balanced' weights each class by n / (numClasses * count); or one weight per class. */
  classWeight?: 'none' | 'balanced' | readonly number[];
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
  log?: (msg: string) => void;
}

const DEFAULTS = {
  epochs: 5,
  learningRate: 0.2,
  headLearningRate: 0.01,
  dim: 32,
  hidden: 0,
  batchSize: 32,
  pooling: 'mean',
  weighting: 'idf',
  minSteps: 300,
  seed: 1,
  classWeight: 'none',
} as const;

/** Yields to the event loop so a queue worker in the same process keeps renewing its locks. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains an embedding-bag classifier. Deterministic for a given seed and backend. The dense
 * head runs in TF.js (autodiff + Adam); the embedding rows are updated sparsely in TypeScript
 * from the TF.js gradient with respect to the pooled embedding.
 */
export async function trainClassifier(texts: string[], labels: number[], numClasses: number, opts: TrainOptions = {}): Promise<TrainedModel> {
  const o = { ...DEFAULTS, ...opts };
  checkInputs(texts, labels, numClasses);
  const started = performance.now();
  const backend = await initBackend(o.log);
  const featureConfig = resolveFeatureConfig(o.featureConfig);
  const ids = texts.map((t) => featurize(t, featureConfig));
  const vocab = buildVocabulary(ids, featureConfig.buckets, o.weighting);
  const plans = ids.map((x) => planPooling({ ...vocab, pooling: o.pooling }, x));
  const rng = createRng(o.seed);
  const inDim = o.hidden > 0 ? o.hidden : o.dim;
  // Zero table, random head (fastText does the reverse): gradients still flow from the first
  // step, and a zero row is exactly what an unseen bucket means at inference.
  const table = new Float32Array(vocab.rowBuckets.length * o.dim);
  const init: HeadWeights = {
    hiddenWeights: glorot(o.dim, o.hidden, rng),
    hiddenBias: new Float32Array(o.hidden),
    outWeights: glorot(inDim, numClasses, rng),
    outBias: new Float32Array(numClasses),
  };
  const head = new TfHead(init, o.dim, o.hidden, numClasses, o.headLearningRate);
  const sparse = new SparseTableTrainer(table, o.dim, o.learningRate);
  const weights = classWeights(labels, numClasses, o.classWeight);

  const n = texts.length;
  const batchesPerEpoch = Math.ceil(n / o.batchSize);
  const epochs = Math.max(o.epochs, Math.ceil(o.minSteps / batchesPerEpoch));
  const pooled = new Float32Array(o.batchSize * o.dim);
  const target = new Float32Array(o.batchSize * numClasses);
  let steps = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = permutation(n, rng);
      let lossSum = 0;
      for (let start = 0; start < n; start += o.batchSize) {
        const rows = Math.min(o.batchSize, n - start);
        target.fill(0);
        for (let r = 0; r < rows; r++) {
          const i = order[start + r];
          poolRows(table, o.dim, plans[i], pooled, r * o.dim);
          target[r * numClasses + labels[i]] = weights[labels[i]] / rows;
        }
        const { loss, dPooled } = head.step(pooled.subarray(0, rows * o.dim), target.subarray(0, rows * numClasses), rows);
        for (let r = 0; r < rows; r++) sparse.accumulate(plans[order[start + r]], dPooled, r * o.dim);
        sparse.apply();
        lossSum += loss;
        steps++;
        await yieldToEventLoop();
      }
      await o.onEpoch?.({ epoch, epochs, loss: lossSum / batchesPerEpoch, backend, elapsedMs: performance.now() - started });
    }
    const trained = head.read();
    const meta = { backend, examples: n, epochs, steps, trainMs: performance.now() - started };
    return { featureConfig, numClasses, dim: o.dim, hidden: o.hidden, pooling: o.pooling, ...vocab, table, ...trained, meta };
  } finally {
    head.dispose();
  }
}

function checkInputs(texts: string[], labels: number[], numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new RangeError('numClasses must be an integer >= 2');
  if (texts.length !== labels.length) throw new RangeError('texts and labels differ in length');
  if (texts.length === 0) throw new RangeError('no training examples');
  for (const y of labels) {
    if (!Number.isInteger(y) || y < 0 || y >= numClasses) throw new RangeError(`label ${y} outside [0, ${numClasses})`);
  }
}

function classWeights(labels: number[], k: number, spec: TrainOptions['classWeight']): Float32Array {
  if (Array.isArray(spec)) {
    if (spec.length !== k) throw new RangeError('classWeight needs one weight per class');
    return Float32Array.from(spec);
  }
  const w = new Float32Array(k).fill(1);
  if (spec !== 'balanced') return w;
  const counts = new Float32Array(k);
  for (const y of labels) counts[y]++;
  // Classes absent from the labels get weight 1: they have no examples to weigh anyway.
  for (let c = 0; c < k; c++) if (counts[c] > 0) w[c] = labels.length / (k * counts[c]);
  return w;
}

/** Glorot-normal initialisation from the seeded generator (TF.js's own initialisers are not seedable per run). */
function glorot(fanIn: number, fanOut: number, rng: Rng): Float32Array {
  const w = new Float32Array(fanIn * fanOut);
  const std = Math.sqrt(2 / (fanIn + fanOut));
  for (let i = 0; i < w.length; i++) w[i] = std * normal(rng);
  return w;
}
