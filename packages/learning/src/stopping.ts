import { uncertainty } from './strategies';

/**
 * Stopping criteria for active learning: when do more labels stop paying off?
 *
 * The rule (`recommendStop`): stop when the predictions have stabilized, or when the label
 * budget is spent. The other criteria are computed and reported as evidence only.
 *
 * Stabilizing predictions (Bloodgood & Vijay-Shanker, "A method for stopping active learning
 * based on stabilizing predictions and the need for user-adjustable stopping", CoNLL 2009):
 * every model predicts the same fixed, unlabeled "stop set"; Cohen's kappa between the
 * predictions of successive models measures how much the last labels changed the model. Their
 * defaults are ours: a stop set of 2,000 examples, kappa 0.99, and a window of the last k = 3
 * successive model pairs (they average the window's kappas; implementations differ in that
 * detail). We add two guards against firing early: every kappa of the window must reach the
 * threshold, not only their mean (a model retrained from scratch on a few labels can agree with
 * its predecessor by chance once, not three times running), and the window's oldest model must
 * already have seen `minLabels` labels, so every check counted comes after the minimum.
 *
 * Evidence only:
 * - overall uncertainty (Zhu, Wang & Hovy, "Learning a stopping criterion for active learning
 *   for word sense disambiguation and text classification", IJCNLP 2008): the mean uncertainty
 *   (entropy / log k, in [0, 1]) of the newest model over the stop set; met at or below the
 *   threshold. Zhu et al. tune it per task; 0.05 is small-text's default (`OverallUncertainty`).
 * - classification change (Zhu, Wang & Hovy, "Multi-criteria-based strategy to stop active
 *   learning for data annotation", COLING 2008): the fraction of the stop set whose predicted
 *   label changed from the previous model; they stop when nothing changes, so met at 0.
 * - the minimum number of labels, reported so a "not yet" is explained.
 */

/** Predicted class indexes, one per stop-set position. */
export type LabelVector = Int32Array | readonly number[];

/** The stop-set predictions of one model, oldest model first in a history. */
export interface StopSetPredictions {
  /** Labels the model was trained on. */
  labels: number;
  predictions: LabelVector;
  /** The model's version, if it has one: only named in the evidence. */
  version?: number;
}

/** Thresholds of the stopping rule; `DEFAULT_STOPPING_OPTIONS` cites where each comes from. */
export interface StoppingOptions {
  /** Every kappa of the window must reach this. */
  kappa: number;
  /** Number of successive model pairs (so window + 1 models) whose kappas must reach `kappa`. */
  window: number;
  /** The oldest model of the window must have seen at least this many labels. */
  minLabels: number;
  /** Overall uncertainty (mean normalised entropy over the stop set) at or below this is met. */
  uncertainty: number;
  /** Classification change (fraction of the stop set) at or below this is met. */
  change: number;
}

/**
 * kappa 0.99 and window 3 are Bloodgood & Vijay-Shanker's (2009); change 0 is Zhu et al.'s
 * (2008); uncertainty 0.05 is small-text's. minLabels 200 is ours and only a guard (ten
 * retrainings at Alder's default retrain_every of 20): in offline runs on the shared datasets
 * kappa first reached 0.99 at 280 labels, on the easiest (docs/architecture.md, "Stopping").
 */
export const DEFAULT_STOPPING_OPTIONS: Readonly<StoppingOptions> = Object.freeze({
  kappa: 0.99,
  window: 3,
  minLabels: 200,
  uncertainty: 0.05,
  change: 0,
});

/** The criteria that decide `stop_recommended` (any one met); the others are evidence only. */
export const STOP_RULE: readonly CriterionName[] = ['stabilizing_predictions', 'budget'];

export type CriterionName = 'stabilizing_predictions' | 'min_labels' | 'budget' | 'overall_uncertainty' | 'classification_change';

/** One criterion as reported: its value now, the threshold it is held against, and whether it is met. */
export interface CriterionResult {
  name: CriterionName;
  met: boolean;
  /** null when it can not be computed yet (too few models, no stop set, no budget). */
  value: number | null;
  threshold: number | null;
  /** Whether the criterion is part of the rule (STOP_RULE) or evidence only. */
  decides: boolean;
  detail: string;
}


/** What `recommendStop` decides, with every criterion as evidence. */
export interface StopRecommendation {
  stop_recommended: boolean;
  criteria: CriterionResult[];
}

function checkLabels(values: LabelVector, numClasses: number, name: string): void {
  for (let i = 0; i < values.length; i++) {
    const c = values[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new RangeError(`${name}[${i}] = ${c} is outside [0, ${numClasses})`);
  }
}

/**
 * Cohen's kappa between two labelings of the same items: (p_o - p_e) / (1 - p_e). When chance
 * agreement is already 1 (both put every item in the same one class) the labelings are
 * identical and kappa is 1. NaN for empty input (agreement over nothing is undefined).
 */
export function cohenKappa(a: LabelVector, b: LabelVector, numClasses: number): number {
  if (a.length !== b.length) throw new RangeError(`labelings differ in length (${a.length} vs ${b.length})`);
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError('numClasses must be a positive integer');
  checkLabels(a, numClasses, 'a');
  checkLabels(b, numClasses, 'b');
  const n = a.length;
  if (n === 0) return Number.NaN;
  const countA = new Float64Array(numClasses);
  const countB = new Float64Array(numClasses);
  let agree = 0;
  for (let i = 0; i < n; i++) {
    countA[a[i]]++;
    countB[b[i]]++;
    if (a[i] === b[i]) agree++;
  }
  const po = agree / n;
  let pe = 0;
  for (let c = 0; c < numClasses; c++) pe += (countA[c] / n) * (countB[c] / n);
  if (pe >= 1) return 1;
  return (po - pe) / (1 - pe);
}

/** Fraction of positions whose label differs between two labelings; NaN for empty input. */
export function classificationChange(prev: LabelVector, next: LabelVector): number {
  if (prev.length !== next.length) throw new RangeError(`labelings differ in length (${prev.length} vs ${next.length})`);
  if (prev.length === 0) return Number.NaN;
  let changed = 0;
  for (let i = 0; i < prev.length; i++) if (prev[i] !== next[i]) changed++;
  return changed / prev.length;
}

/**
 * Mean normalised entropy (in [0, 1]) of the rows of an n x numClasses probability matrix: Zhu
 * et al.'s overall uncertainty of a model over a set of unlabeled items. NaN for no rows.
 */
export function overallUncertainty(probs: Float32Array | readonly number[], numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError('numClasses must be a positive integer');
  if (probs.length % numClasses !== 0) throw new RangeError('probability matrix is not n x numClasses');
  const n = probs.length / numClasses;
  if (n === 0) return Number.NaN;
  const rows = probs instanceof Float32Array ? probs : Float32Array.from(probs);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += uncertainty('entropy', rows.subarray(i * numClasses, (i + 1) * numClasses));
  return sum / n;
}

/** Whether the label count has reached the budget; never with no budget (null). */
export function budgetReached(labelCount: number, budget: number | null): boolean {
  return budget !== null && labelCount >= budget;
}

/** The history with models that saw no more labels than the one before collapsed onto the later one. */
function distinctChecks(history: readonly StopSetPredictions[]): StopSetPredictions[] {
  const kept: StopSetPredictions[] = [];
  for (const entry of history) {
    const last = kept[kept.length - 1];
    // A retrain on the same labels (a manual one) predicts the same: counting it would be a free
    // "stable" check. The later model replaces the earlier one.
    if (last && entry.labels <= last.labels) kept[kept.length - 1] = entry;
    else kept.push(entry);
  }
  return kept;
}

/** Kappas of the successive pairs in the window, oldest pair first, and whether the rule holds. */
export interface StabilizingResult {
  met: boolean;
  /** Kappa of each of the last `window` successive pairs (fewer while the history is short). */
  kappas: number[];
  /** The smallest kappa of the window; null with fewer than `window` pairs. */
  minKappa: number | null;
  /** The mean kappa of the window (Bloodgood & Vijay-Shanker's statistic); null with fewer than `window` pairs. */
  meanKappa: number | null;
  /** Labels the oldest model of the window saw; null with fewer than `window` pairs. */
  windowStartLabels: number | null;
  /** The models compared (window + 1 of them, fewer while the history is short), oldest first. */
  models: StopSetPredictions[];
}

/**
 * Stabilizing predictions over a history of stop-set predictions (oldest first): met when the
 * last `window` successive pairs of models each agree with kappa >= `kappa` and the oldest model
 * of that window saw at least `minLabels` labels. Models that saw no more labels than the one
 * before them do not count as a new check (see distinctChecks).
 */
export function stabilizingPredictions(
  history: readonly StopSetPredictions[],
  numClasses: number,
  opts: Pick<StoppingOptions, 'kappa' | 'window' | 'minLabels'> = DEFAULT_STOPPING_OPTIONS,
): StabilizingResult {
  if (!Number.isInteger(opts.window) || opts.window < 1) throw new RangeError('window must be a positive integer');
  const checks = distinctChecks(history);
  const start = Math.max(0, checks.length - 1 - opts.window);
  const models = checks.slice(start);
  const kappas: number[] = [];
  for (let i = 1; i < models.length; i++) kappas.push(cohenKappa(models[i - 1]!.predictions, models[i]!.predictions, numClasses));
  if (kappas.length < opts.window) return { met: false, kappas, minKappa: null, meanKappa: null, windowStartLabels: null, models };
  const minKappa = Math.min(...kappas);
  const meanKappa = kappas.reduce((s, k) => s + k, 0) / kappas.length;
  const windowStartLabels = models[0]!.labels;
  // NaN (an empty stop set) compares false: never met.
  const met = minKappa >= opts.kappa && windowStartLabels >= opts.minLabels;
  return { met, kappas, minKappa, meanKappa, windowStartLabels, models };
}

/** What `recommendStop` needs to know about a project now. */
export interface StoppingState {
  numClasses: number;
  /** Labels so far (the project's label count). */
  labelCount: number;
  /** The project's label budget; null for none. */
  budget: number | null;
  /** Stop-set predictions of the project's models, oldest first, the newest model last. */
  history: readonly StopSetPredictions[];
  /** The newest model's probabilities over the stop set (n x numClasses); null when there is no stop set. */
  probs: Float32Array | null;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
/** "v3→v4 " for the i-th pair when the models have versions, else "". */
const pairName = (models: readonly StopSetPredictions[], i: number) => {
  const [a, b] = [models[i]?.version, models[i + 1]?.version];
  return a === undefined || b === undefined ? '' : `v${a}→v${b} `;
};
const finiteOrNull = (x: number | null) => (x === null || !Number.isFinite(x) ? null : round4(x));

/**
 * The stopping rule: stop_recommended = stabilizing predictions met (which includes the minimum
 * labels) OR budget reached. Every criterion is returned with its value and threshold, the
 * evidence-only ones (overall uncertainty, classification change) included.
 */
export function recommendStop(state: StoppingState, options: Partial<StoppingOptions> = {}): StopRecommendation {
  const opts: StoppingOptions = { ...DEFAULT_STOPPING_OPTIONS, ...options };
  const { numClasses, labelCount, budget, history, probs } = state;
  const newest = history[history.length - 1];
  const stop = stabilizingPredictions(history, numClasses, opts);
  const kappaList = stop.kappas.map((k, i) => `${pairName(stop.models, i)}${round4(k).toFixed(4)}`).join(', ') || 'none';
  const stabilizing: Criterion = {
    name: 'stabilizing_predictions',
    met: stop.met,
    value: finiteOrNull(stop.minKappa),
    threshold: opts.kappa,
    detail:
      stop.minKappa === null
        ? `${stop.kappas.length} of ${opts.window} successive model pairs compared on the stop set so far (kappas: ${kappaList})`
        : `lowest kappa of the last ${opts.window} successive model pairs on the stop set (kappas: ${kappaList}; mean ${round4(stop.meanKappa!)}); ` +
          `the oldest model of the window saw ${stop.windowStartLabels} labels (minimum ${opts.minLabels})`,
  };
  const newestLabels = newest?.labels ?? 0;
  const minLabels: Criterion = {
    name: 'min_labels',
    met: newestLabels >= opts.minLabels,
    value: newestLabels,
    threshold: opts.minLabels,
    detail: `the newest model saw ${newestLabels} labels; stabilizing predictions counts only windows that start at ${opts.minLabels} or more`,
  };
  const budgetCriterion = budgetCriterionOf(labelCount, budget);
  const u = probs && probs.length ? overallUncertainty(probs, numClasses) : Number.NaN;
  const uncertaintyCriterion: Criterion = {
    name: 'overall_uncertainty',
    met: Number.isFinite(u) && u <= opts.uncertainty,
    value: finiteOrNull(u),
    threshold: opts.uncertainty,
    detail: Number.isFinite(u)
      ? 'mean normalised entropy of the newest model over the stop set (evidence only)'
      : 'no stop-set probabilities yet (evidence only)',
  };
  const previous = distinctChecks(history);
  const change =
    previous.length >= 2 ? classificationChange(previous[previous.length - 2]!.predictions, previous[previous.length - 1]!.predictions) : Number.NaN;
  const changeCriterion: Criterion = {
    name: 'classification_change',
    met: Number.isFinite(change) && change <= opts.change,
    value: finiteOrNull(change),
    threshold: opts.change,
    detail: Number.isFinite(change)
      ? 'fraction of the stop set whose predicted label changed from the previous model (evidence only)'
      : 'no previous model to compare with yet (evidence only)',
  };
  return decide([stabilizing, minLabels, budgetCriterion, uncertaintyCriterion, changeCriterion]);
}

/** A criterion before `decide` marks whether it is part of the rule. */
type Criterion = Omit<CriterionResult, 'decides'>;

function budgetCriterionOf(labelCount: number, budget: number | null): Criterion {
  return {
    name: 'budget',
    met: budgetReached(labelCount, budget),
    value: labelCount,
    threshold: budget,
    detail: budget === null ? `${labelCount} labels so far; the project has no label budget` : `${labelCount} of ${budget} labels spent`,
  };
}

/** Any criterion of STOP_RULE met recommends stopping; `decides` is set from the rule, whatever it said before. */
function decide(criteria: readonly Criterion[]): StopRecommendation {
  const marked = criteria.map((c) => ({ ...c, decides: STOP_RULE.includes(c.name) }));
  return { stop_recommended: marked.some((c) => c.met && c.decides), criteria: marked };
}

/**
 * A recommendation made when a model was trained, brought up to date with the label count and
 * budget of now: the budget criterion is recomputed (labels keep arriving between models, and
 * the budget can be changed), the model-based ones are kept. A missing budget criterion is added.
 */
export function withCurrentBudget(recommendation: StopRecommendation, labelCount: number, budget: number | null): StopRecommendation {
  const fresh = budgetCriterionOf(labelCount, budget);
  const criteria = recommendation.criteria.some((c) => c.name === 'budget')
    ? recommendation.criteria.map((c) => (c.name === 'budget' ? fresh : c))
    : [...recommendation.criteria, fresh];
  return decide(criteria);
}
