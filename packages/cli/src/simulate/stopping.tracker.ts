import { argmaxRows, createRng, predictProba, recommendStop, type StopSetPredictions, type TrainedModel } from '@alder/learning';

/**
 * Stop-set size: the trainer's STOP_SET_SIZE (Bloodgood & Vijay-Shanker's 2,000), so the
 * in-process recommendation is judged the way the services judge it.
 */
export const STOP_SET_SIZE = 2_000;

/** What results.json says about the stop columns. */
export const STOPPING_NOTE =
  "@alder/learning recommendStop (stabilizing predictions on a fixed stop set of up to 2,000 unlabeled pool items, no label budget): the first model it recommends stopping at";

/**
 * Follows one run's models the way the trainer does: a fixed stop set of unlabeled pool items
 * chosen at the first model (a seeded sample, as the trainer takes a hashed one), every model's
 * predictions on it, and the learning package's recommendStop over that history. The
 * simulator's --budget is not passed as a label budget: it would only say "stop" at the end.
 */
export function createStopTracker(texts: readonly string[], numClasses: number, seed: number) {
  let stopTexts: string[] | null = null;
  const history: StopSetPredictions[] = [];
  return {
    /** Records a model trained on `labels` labels; true when the rule recommends stopping now. */
    observe(model: TrainedModel, labels: number, unlabeled: readonly number[]): boolean {
      if (!stopTexts) {
        const rng = createRng(seed ^ 0x51095e7);
        const sample = [...unlabeled];
        for (let i = sample.length - 1; i > 0; i--) {
          const j = Math.floor(rng() * (i + 1));
          [sample[i], sample[j]] = [sample[j], sample[i]];
        }
        stopTexts = sample.slice(0, STOP_SET_SIZE).map((i) => texts[i]);
      }
      if (stopTexts.length === 0) return false;
      const probs = predictProba(model, stopTexts);
      history.push({ labels, predictions: argmaxRows(probs, numClasses) });
      return recommendStop({ numClasses, labelCount: labels, budget: null, history, probs }).stop_recommended;
    },
  };
}

export type StopTracker = ReturnType<typeof createStopTracker>;
