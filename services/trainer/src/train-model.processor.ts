import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import type { JobContext, PayloadOf, trainingQueue } from '@alder/queues';
import { withTransaction } from '@alder/db';
import {
  argmaxRows,
  evaluate,
  predictProba,
  serializeModel,
  trainClassifier,
  trainOptionsFor,
  type StoppingOptions,
  type TrainedModel,
  type TrainOptions,
} from '@alder/learning';
import { beginTraining, failTraining, finishTraining, type Training } from './model.repository';
import { predictStopSet, recordStopping } from './stopping.evaluator';
import { loadTrainingData } from './training-data.repository';

/** Every model is trained with this seed, so the same labels give the same model. */
export const TRAIN_SEED = 1;

// predictProba is synchronous: the test set is scored in slices with a yield between them so
// the worker keeps renewing its job lock.
const PREDICT_CHUNK = 2_000;

export interface TrainModelDeps {
  pool: Pool;
  /** Overrides of the learning package's training defaults (seed and log are set here). */
  trainOptions?: Omit<TrainOptions, 'seed' | 'log'>;
  /** Overrides of the stopping thresholds (DEFAULT_STOPPING_OPTIONS). */
  stoppingOptions?: Partial<StoppingOptions>;
}

export type TrainModelPayload = PayloadOf<typeof trainingQueue, 'train-model'>;

export type TrainModelResult =
  | { skipped: 'no-project' | 'done' | 'busy' | 'up-to-date' | 'superseded' }
  | { failed: 'no-labels'; modelId: number }
  | {
      modelId: number;
      version: number;
      trainCount: number;
      testCount: number;
      accuracy: number | null;
      followup: boolean;
      /** null when the stopping evidence could not be computed (the model committed without it). */
      stopRecommended: boolean | null;
    };

export const NO_LABELS_ERROR = 'no training labels: no pool item has an annotation whose label is in the project label set';

/**
 * The `train-model` processor: claims the project's training slot, trains on the latest label
 * of every labeled pool item, evaluates on the test split and commits the model with its
 * lineage, the rank-pool job and any follow-up. Idempotent per job key (see beginTraining).
 */
export async function processTrainModel(
  deps: TrainModelDeps,
  payload: TrainModelPayload,
  context: Pick<JobContext, 'jobKey' | 'log'>,
): Promise<TrainModelResult> {
  const { pool } = deps;
  const { jobKey } = context;
  const { projectId } = payload;
  const start = await withTransaction(pool, (client) => beginTraining(client, { projectId, jobKey, reason: payload.reason }));
  if (start.kind === 'skipped') {
    context.log.info({ projectId, skipped: start.reason }, 'train-model: nothing to do');
    return { skipped: start.reason };
  }
  const { training } = start;
  const log = context.log.child({ projectId, modelId: training.modelId, version: training.version });
  if (start.tookOverFrom) log.warn({ staleModelId: start.tookOverFrom }, 'took over a stale training');
  log.info({ restarted: start.restarted, reason: payload.reason }, 'training started');

  try {
    const data = await loadTrainingData(pool, projectId, training.labels);
    if (data.texts.length === 0) {
      await failTraining(pool, training, NO_LABELS_ERROR, jobKey);
      log.warn(NO_LABELS_ERROR);
      return { failed: 'no-labels', modelId: training.modelId };
    }

    const began = performance.now();
    const model = await trainClassifier(data.texts, data.labels, training.labels.length, {
      ...trainOptionsFor(training.strategy),
      ...deps.trainOptions,
      seed: TRAIN_SEED,
      log: (message) => log.debug(message),
    });
    const trainMs = Math.round(performance.now() - began);
    const metrics = await evaluateOnTestSet(model, data.testTexts, data.testLabels, training.labels);
    // Stopping is evidence about the model: failing to compute it must not fail the training.
    const stopBegan = performance.now();
    const stopSet = await predictStopSet(pool, projectId, model).catch((err: unknown) => {
      log.error({ err }, 'could not predict the stop set; the model commits without stopping evidence');
      return undefined;
    });
    let stoppingMs = performance.now() - stopBegan;

    let stopRecommended: boolean | null = null;
    const outcome = await withTransaction(pool, async (client) => {
      const finished = await finishTraining(client, training, jobKey, {
        params: serializeModel(model),
        metrics,
        backend: model.meta.backend,
        trainCount: data.texts.length,
        testCount: data.testTexts.length,
        trainMs,
        hyperparameters: hyperparameters(model, deps.trainOptions),
        annotationIds: data.annotationIds,
        maxAnnotationId: data.maxAnnotationId,
        labelCountSeen: data.labelCountSeen,
      });
      if (finished.kind === 'ready' && stopSet !== undefined) {
        const recordBegan = performance.now();
        const evidence = await recordStopping(client, { training, trainCount: data.texts.length, stopSet, options: deps.stoppingOptions, log });
        stopRecommended = evidence?.stop_recommended ?? null;
        stoppingMs += performance.now() - recordBegan;
      }
      return finished;
    });
    if (outcome.kind === 'superseded') {
      log.warn('training finished but the model row was taken over or restarted meanwhile; result dropped');
      return { skipped: 'superseded' };
    }
    log.info(
      {
        trainCount: data.texts.length,
        testCount: data.testTexts.length,
        trainMs,
        accuracy: metrics.accuracy,
        macroF1: metrics.macro_f1,
        followup: outcome.followup,
        stopRecommended,
        stoppingMs: Math.round(stoppingMs),
      },
      'model ready',
    );
    return {
      modelId: training.modelId,
      version: training.version,
      trainCount: data.texts.length,
      testCount: data.testTexts.length,
      accuracy: metrics.accuracy,
      followup: outcome.followup,
      stopRecommended,
    };
  } catch (error) {
    await markFailed(pool, training, error, log);
    throw error;
  }
}

async function markFailed(pool: Pool, training: Training, error: unknown, log: Logger): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  log.error({ err: error }, 'training failed');
  await failTraining(pool, training, message).catch((err) => log.error({ err }, 'could not mark the model failed'));
}

/** What models.metrics holds; accuracy and macro_f1 are null when there is no test set. */
export interface ModelMetrics {
  accuracy: number | null;
  macro_f1: number | null;
  per_class: { label: string; precision: number; recall: number; f1: number; support: number }[];
  test_count: number;
}

async function evaluateOnTestSet(model: TrainedModel, texts: string[], yTrue: number[], labels: string[]): Promise<ModelMetrics> {
  if (texts.length === 0) return { accuracy: null, macro_f1: null, per_class: [], test_count: 0 };
  const k = labels.length;
  const yPred: number[] = [];
  for (let start = 0; start < texts.length; start += PREDICT_CHUNK) {
    yPred.push(...argmaxRows(predictProba(model, texts.slice(start, start + PREDICT_CHUNK)), k));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const result = evaluate(yTrue, yPred, labels);
  return {
    accuracy: result.accuracy,
    macro_f1: result.macroF1,
    per_class: result.perClass.map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
    test_count: texts.length,
  };
}

function hyperparameters(model: TrainedModel, overrides: TrainModelDeps['trainOptions']): Record<string, unknown> {
  // Functions (onEpoch) are not hyperparameters.
  const given = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => typeof value !== 'function'));
  return {
    ...given,
    seed: TRAIN_SEED,
    dim: model.dim,
    hidden: model.hidden,
    pooling: model.pooling,
    epochs: model.meta.epochs,
    steps: model.meta.steps,
    dropout: model.meta.dropout ?? 0,
    feature_config: model.featureConfig,
  };
}
