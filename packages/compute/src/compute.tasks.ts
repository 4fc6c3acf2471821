import {
  argmaxRows,
  coldStartOrder,
  createRng,
  deserializeModel,
  embed,
  headInputDim,
  initBackend,
  predictProba,
  rankPool,
  selectionContext,
  serializeModel,
  trainClassifier,
  trainCommittee,
  type BackendPreference,
  type FeatureConfig,
  type Pooling,
  type StrategyName,
  type TrainedModel,
  type TrainOptions,
} from '@alder/learning';

/**
 * The CPU-heavy work of Alder, as plain data in and plain data out, so it can run on a compute
 * thread (compute.thread.ts) or, in unit tests, on the caller's own thread: one definition of
 * what each task does, whichever thread does it.
 */

/** A model as tasks see it: serialized weights, under a key that identifies them for caching. */
export interface ModelRef {
  key: string;
  /** serializeModel() bytes; on the pool they sit in a SharedArrayBuffer, so they are not copied per task. */
  params: Uint8Array;
}

export interface TrainInput {
  texts: string[];
  /** Class index of each text. */
  labels: number[];
  numClasses: number;
  /** Training knobs (functions such as onEpoch and log cannot cross a thread). */
  options: Omit<TrainOptions, 'onEpoch' | 'log'>;
  /** The held-out texts to predict with the new model. */
  testTexts: string[];
  /** The stop-set texts to predict with the new model (stopping evidence). */
  stopSetTexts: string[];
}

/** What a model was trained with, for models.hyperparameters. */
export interface ModelSummary {
  dim: number;
  hidden: number;
  pooling: Pooling;
  epochs: number;
  steps: number;
  dropout: number;
  featureConfig: FeatureConfig;
  backend: string;
}

export interface TrainOutput {
  params: Uint8Array;
  summary: ModelSummary;
  /** argmax class of each test text. */
  testPredictions: number[];
  /** n x numClasses probabilities of the stop set (empty when it is); null when predicting it failed. */
  stopSetProbs: Float32Array | null;
  /** Why the stop set could not be predicted (the model is good; only its stopping evidence is lost). */
  stopSetError?: string;
}

export interface ScoreOutput {
  /** n x numClasses class probabilities. */
  probs: Float32Array;
  /** n x headInputDim dense representation (`embed`), when asked for. */
  embeddings?: Float32Array;
}

export interface SelectInput {
  strategy: StrategyName;
  /** Class names in the model's order. */
  labels: string[];
  candidateTexts: string[];
  /** The candidates' embeddings as a score task returned them (n x width), so they are not computed twice. */
  candidateEmbeddings: Float32Array;
  /** Per candidate, its place in the project's fixed random order (drawKey). */
  drawKeys: Float64Array;
  labeledTexts: string[];
  labeledY: number[];
  labeledCount: number;
  batch: number;
  seed: number;
}

export interface SelectOutput {
  /** Candidate indices of the batch, in selection order. */
  picks: number[];
  /** The rationale of each pick. */
  rationales: string[];
}

export type ComputeTask =
  | { kind: 'backend' }
  | { kind: 'train'; input: TrainInput }
  | { kind: 'score'; model: ModelRef; texts: string[]; embeddings: boolean }
  | { kind: 'select'; model: ModelRef; input: SelectInput }
  | { kind: 'cold-start'; texts: string[]; seed: number };

// Predictions of large sets are made in slices so no single array of features gets huge.
const PREDICT_SLICE = 5_000;

function predictInSlices(model: TrainedModel, texts: string[]): Float32Array {
  const k = model.numClasses;
  const out = new Float32Array(texts.length * k);
  for (let start = 0; start < texts.length; start += PREDICT_SLICE) {
    out.set(predictProba(model, texts.slice(start, start + PREDICT_SLICE)), start * k);
  }
  return out;
}

/**
 * Runs tasks on the thread that calls it. Keeps the last few deserialised models by key, so a
 * ranking job's pages and its batch selection deserialise the model once per thread.
 */
export class TaskRunner {
  private readonly models = new Map<string, TrainedModel>();
  /** Work this runner did, so tests can hold it to "once". */
  readonly counts = { deserialised: 0 };

  private readonly backend: BackendPreference;
  private readonly required: string | undefined;
  private readonly cachedModels: number;

  constructor(options: { backend: BackendPreference; required?: string; cachedModels?: number }) {
    this.backend = options.backend;
    this.required = options.required;
    this.cachedModels = options.cachedModels ?? 4;
  }

  /** The TF.js backend this thread trains on, selected once; an explicit one that is missing fails. */
  async initBackend(): Promise<string> {
    const got = await initBackend(() => undefined, this.backend);
    if (this.required && got !== this.required) {
      throw new Error(`TF_BACKEND=${this.required} was asked for, but this thread could only load "${got}" (is the native TensorFlow.js package installed and loadable here?)`);
    }
    return got;
  }

  model(ref: ModelRef): TrainedModel {
    let model = this.models.get(ref.key);
    if (model) {
      // Most recently used last, so the oldest is dropped first.
      this.models.delete(ref.key);
    } else {
      // deserializeModel may keep views on its input: copy out of shared memory first.
      model = deserializeModel(new Uint8Array(ref.params));
      this.counts.deserialised++;
      while (this.models.size >= this.cachedModels) this.models.delete(this.models.keys().next().value!);
    }
    this.models.set(ref.key, model);
    return model;
  }

  async run(task: ComputeTask): Promise<unknown> {
    switch (task.kind) {
      case 'backend':
        return this.initBackend();
      case 'train':
        return this.train(task.input);
      case 'score':
        return this.score(task.model, task.texts, task.embeddings);
      case 'select':
        return this.select(task.model, task.input);
      case 'cold-start':
        return coldStartOrder(task.texts, { seed: task.seed });
      default:
        throw new TypeError(`unknown compute task ${(task as { kind: string }).kind}`);
    }
  }

  async train(input: TrainInput): Promise<TrainOutput> {
    await this.initBackend();
    const model = await trainClassifier(input.texts, input.labels, input.numClasses, input.options);
    const testPredictions = input.testTexts.length ? argmaxRows(predictInSlices(model, input.testTexts), model.numClasses) : [];
    let stopSetProbs: Float32Array | null = null;
    let stopSetError: string | undefined;
    try {
      stopSetProbs = predictInSlices(model, input.stopSetTexts);
    } catch (error) {
      stopSetError = error instanceof Error ? error.message : String(error);
    }
    return {
      params: serializeModel(model),
      summary: {
        dim: model.dim,
        hidden: model.hidden,
        pooling: model.pooling,
        epochs: model.meta.epochs,
        steps: model.meta.steps,
        dropout: model.meta.dropout ?? 0,
        featureConfig: model.featureConfig,
        backend: model.meta.backend,
      },
      testPredictions,
      stopSetProbs,
      stopSetError,
    };
  }

  score(ref: ModelRef, texts: string[], withEmbeddings: boolean): ScoreOutput {
    const model = this.model(ref);
    if (!withEmbeddings) return { probs: predictProba(model, texts) };
    // The probabilities come from the same representation, as predictProba computes them.
    const embeddings = embed(model, texts);
    const ctx = selectionContext(model, texts, { labels: [], rng: () => 0, embeddings });
    return { probs: ctx.probs, embeddings };
  }

  async select(ref: ModelRef, input: SelectInput): Promise<SelectOutput> {
    const model = this.model(ref);
    const k = model.numClasses;
    if (input.candidateEmbeddings.length !== input.candidateTexts.length * headInputDim(model)) {
      throw new RangeError('select: candidate embeddings do not match the candidates and the model');
    }
    const rng = createRng(input.seed);
    const ctx = selectionContext(model, input.candidateTexts, {
      labels: input.labels,
      labeledTexts: input.labeledTexts,
      labeledY: input.labeledY,
      labeledCount: input.labeledCount,
      rng,
      embeddings: input.candidateEmbeddings,
    });
    // A committee needs labelled texts to resample; without any it ranks by margin alone.
    const strategy: StrategyName = input.strategy === 'committee' && input.labeledTexts.length === 0 ? 'margin' : input.strategy;
    let committee: Float32Array[] | undefined;
    if (strategy === 'committee') {
      await this.initBackend();
      const members = await trainCommittee(input.labeledTexts, input.labeledY, k, { seed: input.seed });
      committee = members.map((m) => predictProba(m, input.candidateTexts));
    }
    const ranked = rankPool(strategy, { ...ctx, committee, drawKeys: input.drawKeys }, Math.min(input.batch, input.candidateTexts.length));
    const picks = ranked.order.slice(0, ranked.batch);
    return { picks, rationales: picks.map((i) => ranked.rationales[i]!) };
  }
}
