import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { emitEvent, projectEventMask, type JobContext, type PayloadOf, type trainingQueue } from '@alder/queues';
import { withTransaction } from '@alder/db';
import { modelMetricsSchema, parseContract, type ModelMetrics } from '@alder/contracts';
import { evaluate, trainOptionsFor, type StoppingOptions, type TrainOptions } from '@alder/learning';
import { inlineCompute, type Compute, type ModelSummary } from '@alder/compute';
import { setTimeout as sleep } from 'node:timers/promises';
import { beatTraining, beginTraining, failTraining, finishTraining, STALE_TRAINING_SECONDS, TRAINING_HEARTBEAT_MS, type Training, type TrainingStart } from './model.repository';
import { recordStopping, stopSetPrediction } from './stopping.evaluator';
import { ensureStopSet } from './stopping.repository';
import { loadTrainingData } from './training-data.repository';

/** Every model is trained with this seed, so the same labels give the same model. */
export const TRAIN_SEED = 1;

export interface TrainModelDeps {
  pool: Pool;
  /**
   * Where training and prediction run: the host gives every trainer a pool of compute threads, so
   * a long training never stalls the event loop that renews the job's lock. Default: this thread
   * (tests of the processor's logic).
   */
  compute?: Compute;
  /** Overrides of the learning package's training defaults (seed and log are set here). */
  trainOptions?: Omit<TrainOptions, 'seed' | 'log'>;
  /** Overrides of the stopping thresholds (DEFAULT_STOPPING_OPTIONS). */
  stoppingOptions?: Partial<StoppingOptions>;
  /** The heartbeat's period and how old one may be before its training counts as dead (tests shorten them). */
  heartbeatMs?: number;
  staleSeconds?: number;
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
  const start = await startTraining(deps, { projectId, jobKey, reason: payload.reason }, context.log);
  if (start.kind === 'skipped') {
    context.log.info({ projectId, skipped: start.reason }, 'train-model: nothing to do');
    return { skipped: start.reason };
  }
  const { training } = start;
  const log = context.log.child({ projectId, modelId: training.modelId, version: training.version });
  if (start.tookOverFrom) log.warn({ staleModelId: start.tookOverFrom }, 'took over a stale training');
  log.info({ restarted: start.restarted, reason: payload.reason }, 'training started');
  // Training runs on a compute thread: this loop stays free to beat for it.
  const heartbeat = setInterval(
    () => void beatTraining(pool, training).catch((err: unknown) => log.warn({ err }, 'could not write the training heartbeat')),
    deps.heartbeatMs ?? TRAINING_HEARTBEAT_MS,
  );
  heartbeat.unref();

  try {
    const data = await loadTrainingData(pool, projectId, training.labels);
    if (data.texts.length === 0) {
      await failTraining(pool, training, NO_LABELS_ERROR, jobKey);
      log.warn(NO_LABELS_ERROR);
      return { failed: 'no-labels', modelId: training.modelId };
    }

    // Stopping is evidence about the model: failing to choose the stop set must not fail the training.
    const stopSetItems = await ensureStopSet(pool, projectId).catch((err: unknown) => {
      log.error({ err }, 'could not read the stop set; the model commits without stopping evidence');
      return undefined;
    });
    const began = performance.now();
    const compute = deps.compute ?? inlineCompute();
    const trained = await compute.train({
      texts: data.texts,
      labels: data.labels,
      numClasses: training.labels.length,
      options: { ...trainOptionsFor(training.strategy), ...plainOptions(deps.trainOptions), seed: TRAIN_SEED },
      testTexts: data.testTexts,
      stopSetTexts: stopSetItems?.map((item) => item.text) ?? [],
    });
    const trainMs = Math.round(performance.now() - began);
    // Validated before it is written: the labeling API parses it with the same schema. A violation
    // is a bug and fails the training like any other error.
    const metrics = parseContract('models.metrics', modelMetricsSchema, metricsOf(trained.testPredictions, data.testLabels, training.labels));
    if (trained.stopSetError) log.error({ error: trained.stopSetError }, 'could not predict the stop set; the model commits without stopping evidence');
    const stopSet =
      stopSetItems === undefined || trained.stopSetProbs === null
        ? undefined
        : stopSetItems.length
          ? stopSetPrediction(trained.stopSetProbs, training.labels.length)
          : null;
    let stoppingMs = 0;

    let stopRecommended: boolean | null = null;
    const outcome = await withTransaction(pool, async (client) => {
      const finished = await finishTraining(client, training, jobKey, {
        params: trained.params,
        metrics,
        backend: trained.summary.backend,
        trainCount: data.texts.length,
        testCount: data.testTexts.length,
        trainMs,
        hyperparameters: hyperparameters(trained.summary, deps.trainOptions),
        annotationIds: data.annotationIds,
        examples: data.examples,
        maxAnnotationId: data.maxAnnotationId,
        labelCountSeen: data.labelCountSeen,
      });
      let evidence: Awaited<ReturnType<typeof recordStopping>> = null;
      if (finished.kind === 'ready' && stopSet !== undefined) {
        const recordBegan = performance.now();
        evidence = await recordStopping(client, { training, trainCount: data.texts.length, stopSet, options: deps.stoppingOptions, log });
        stopRecommended = evidence?.stop_recommended ?? null;
        stoppingMs += performance.now() - recordBegan;
      }
      if (finished.kind === 'ready') {
        // Outbound webhooks, in the model's own transaction (written only when someone listens).
        const mask = await projectEventMask(client, training.projectId);
        await emitEvent(client, training.projectId, 'model.trained', { version: training.version, trained_on: data.texts.length, metrics }, { mask });
        if (evidence?.stop_recommended) {
          const criteria = evidence.criteria.filter((c) => c.met && c.decides).map((c) => c.name);
          await emitEvent(client, training.projectId, 'stop.recommended', { model_version: training.version, label_count: evidence.label_count, criteria }, { mask });
        }
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
  } finally {
    clearInterval(heartbeat);
  }
}

/**
 * Claims the project's training slot. Found busy (another trainer's training still beating: one
 * that crashed stops, and is taken over once its heartbeat is staleSeconds old), the job waits
 * and tries again rather than end with nothing to show, for up to twice that time; a trainer
 * alive for longer keeps the slot, and its own follow-up sees to labels that came meanwhile.
 */
async function startTraining(deps: TrainModelDeps, input: { projectId: string; jobKey: string; reason?: string }, log: Logger): Promise<TrainingStart> {
  const staleSeconds = deps.staleSeconds ?? STALE_TRAINING_SECONDS;
  const waitMs = Math.max(10, Math.min(deps.heartbeatMs ?? TRAINING_HEARTBEAT_MS, (staleSeconds * 1000) / 3));
  const deadline = Date.now() + 2 * staleSeconds * 1000;
  for (;;) {
    const start = await withTransaction(deps.pool, (client) => beginTraining(client, { ...input, staleSeconds }));
    if (start.kind !== 'skipped' || start.reason !== 'busy' || Date.now() >= deadline) return start;
    log.info({ projectId: input.projectId, waitMs }, 'another training holds the project; waiting for it to end or stop beating');
    await sleep(waitMs);
  }
}

async function markFailed(pool: Pool, training: Training, error: unknown, log: Logger): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  log.error({ err: error }, 'training failed');
  await failTraining(pool, training, message).catch((err) => log.error({ err }, 'could not mark the model failed'));
}

/** What models.metrics holds, as declared in @alder/contracts. */
export type { ModelMetrics };

function metricsOf(yPred: number[], yTrue: number[], labels: string[]): ModelMetrics {
  if (yTrue.length === 0) return { accuracy: null, macro_f1: null, per_class: [], test_count: 0 };
  const result = evaluate(yTrue, yPred, labels);
  return {
    accuracy: result.accuracy,
    macro_f1: result.macroF1,
    per_class: result.perClass.map(({ label, precision, recall, f1, support }) => ({ label, precision, recall, f1, support })),
    test_count: yTrue.length,
  };
}

/** The overrides that can cross to a compute thread: functions (onEpoch, log) are not hyperparameters. */
function plainOptions(overrides: TrainModelDeps['trainOptions']): Omit<TrainOptions, 'seed' | 'log' | 'onEpoch'> {
  return Object.fromEntries(Object.entries(overrides ?? {}).filter(([, value]) => typeof value !== 'function'));
}

function hyperparameters(model: ModelSummary, overrides: TrainModelDeps['trainOptions']): Record<string, unknown> {
  return {
    ...plainOptions(overrides),
    seed: TRAIN_SEED,
    dim: model.dim,
    hidden: model.hidden,
    pooling: model.pooling,
    epochs: model.epochs,
    steps: model.steps,
    dropout: model.dropout,
    feature_config: model.featureConfig,
  };
}
