import type { PoolClient } from '@alder/db';
import type { Logger } from '@alder/logger';
import {
  DEFAULT_STOPPING_OPTIONS,
  recommendStop,
  type StopRecommendation,
  type StoppingOptions,
  type StopSetPredictions,
} from '@alder/learning';
import { parseContract, stoppingEvidenceSchema } from '@alder/contracts';
import type { Training } from './model.repository';
import { readBudget, readEarlierPredictions, saveStopping } from './stopping.repository';

/** The new model's view of the stop set: probabilities (n x k) and argmax labels. */
export interface StopSetPrediction {
  probs: Float32Array;
  predictions: Int32Array;
}

/**
 * What `models.stopping` holds: the recommendation when the model became ready, the label count
 * and budget it was judged with, the stop-set size and the thresholds used. Declared in
 * @alder/contracts (stoppingEvidenceSchema), which recordStopping validates it with.
 */
export interface StoppingEvidence extends StopRecommendation {
  label_count: number;
  label_budget: number | null;
  stop_set_size: number;
  options: StoppingOptions;
}

/** The stop-set view of the probabilities a compute thread returned for the stop-set texts. */
export function stopSetPrediction(probs: Float32Array, k: number): StopSetPrediction {
  const n = probs.length / k;
  const predictions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
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
    // Validated before it is written: the labeling API parses it with the same schema. A violation
    // is a bug; like any error here it rolls back to the savepoint and the model commits without it.
    parseContract('models.stopping', stoppingEvidenceSchema, evidence);
    await saveStopping(client, { modelId: training.modelId, predictions: stopSet?.predictions ?? null, stopping: evidence });
    await client.query('RELEASE SAVEPOINT stopping');
    return evidence;
  } catch (error) {
    await client.query('ROLLBACK TO SAVEPOINT stopping');
    input.log.error({ err: error }, 'stopping evaluation failed; the model commits without stopping evidence');
    return null;
  }
}
