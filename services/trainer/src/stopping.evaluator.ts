import type { Pool, PoolClient } from '@alder/db';
import type { Logger } from '@alder/logger';
import {
  DEFAULT_STOPPING_OPTIONS,
  predictProba,
  recommendStop,
  type StopRecommendation,
  type StoppingOptions,
  type StopSetPredictions,
  type TrainedModel,
} from '@alder/learning';
import type { Training } from './model.repository';
import { ensureStopSet, readBudget, readEarlierPredictions, saveStopping } from './stopping.repository';

// Predicting is synchronous: slices with a yield between them keep the job lock renewed.
const PREDICT_CHUNK = 2_000;

/** The new model's view of the stop set: probabilities (n x k) and argmax labels. */
export interface StopSetPrediction {
  probs: Float32Array;
  predictions: Int32Array;
}

/**
 * What `models.stopping` holds: the recommendation when the model became ready, the label count
 * and budget it was judged with, the stop-set size and the thresholds used.
 */
export interface StoppingEvidence extends StopRecommendation {
  label_count: number;
  label_budget: number | null;
  stop_set_size: number;
  options: StoppingOptions;
}

/**
 * Predicts the project's stop set with a freshly trained model, choosing the stop set first if
 * the project has none (see ensureStopSet). Runs before the commit transaction, so the project
 * row is not held while predicting. Null when there is no stop set (no unlabeled pool item yet).
 */
export async function predictStopSet(pool: Pool, projectId: string, model: TrainedModel): Promise<StopSetPrediction | null> {
  const items = await ensureStopSet(pool, projectId);
  if (!items.length) return null;
  const k = model.numClasses;
  const probs = new Float32Array(items.length * k);
  for (let start = 0; start < items.length; start += PREDICT_CHUNK) {
    const slice = items.slice(start, start + PREDICT_CHUNK).map((item) => item.text);
    probs.set(predictProba(model, slice), start * k);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const predictions = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[i * k + c] > probs[i * k + best]) best = c;
    predictions[i] = best;
  }
  return { probs, predictions };
}

/**
 * In the commit transaction, right after the model became ready (project row locked): stores
 * its stop-set predictions, compares them with the earlier models', and stores the stopping
 * evidence on the model. Stopping is evidence about the model, not part of it: an error here is
 * logged and rolled back to a savepoint, and the model still commits (without evidence).
 */
export async function recordStopping(
  client: PoolClient,
  input: { training: Training; trainCount: number; stopSet: StopSetPrediction | null; options?: Partial<StoppingOptions>; log: Logger },
): Promise<StoppingEvidence | null> {
  const { training, stopSet } = input;
  await client.query('SAVEPOINT stopping');
  try {
    const options: StoppingOptions = { ...DEFAULT_STOPPING_OPTIONS, ...input.options };
    const { labelCount, budget } = await readBudget(client, training.projectId);
    const size = stopSet?.predictions.length ?? 0;
    const earlier = stopSet
      ? (await readEarlierPredictions(client, training)).filter((m) => m.predictions.length === size).reverse()
      : [];
    const history: StopSetPredictions[] = earlier.map((m) => ({ labels: m.trainCount, predictions: m.predictions, version: m.version }));
    if (stopSet) history.push({ labels: input.trainCount, predictions: stopSet.predictions, version: training.version });
    const recommendation = recommendStop(
      { numClasses: training.labels.length, labelCount, budget, history, probs: stopSet?.probs ?? null },
      options,
    );
    const evidence: StoppingEvidence = { ...recommendation, label_count: labelCount, label_budget: budget, stop_set_size: size, options };
    await saveStopping(client, { modelId: training.modelId, predictions: stopSet?.predictions ?? null, stopping: evidence });
    await client.query('RELEASE SAVEPOINT stopping');
    return evidence;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT stopping');
    input.log.error({ err: error }, 'stopping evaluation failed; the model commits without stopping evidence');
    return null;
  }
}
