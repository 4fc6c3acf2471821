/** One model of a simulated run: how many labels it was trained on and how it scored on the test file. */
export interface CurvePoint {
  labels: number;
  accuracy: number;
  macro_f1: number;
}

/** Where a stopping rule says more labels stop paying off, if the learning package has one. */
export interface StopPoint {
  labels: number;
  accuracy: number;
}

/** One strategy in one repeat: the learning curve and where it would stop. */
export interface RunResult {
  strategy: string;
  repeat: number;
  /** Seed of the repeat's cold start (and of its training and random draws). */
  seed: number;
  curve: CurvePoint[];
  stop: StopPoint | null;
  elapsed_ms: number;
  /** Time spent training, scoring the pool and judging the stopping rule (in-process runs only). */
  train_ms?: number;
  score_ms?: number;
  stop_ms?: number;
}

/** The model trained on every train item: what "x% of full-data accuracy" is measured against. */
export interface FullDataResult {
  repeat: number;
  seed: number;
  labels: number;
  accuracy: number;
  macro_f1: number;
  train_ms: number;
}

/** Label fractions of full-data accuracy the summary reports labels-to-reach for. */
export const REACH_FRACTIONS = [0.9, 0.95, 0.98] as const;
export type ReachKey = '90' | '95' | '98';
export const reachKey = (fraction: number): ReachKey => String(Math.round(fraction * 100)) as ReachKey;

/** A saving of labels against random; `bound` says when one side never reached the target. */
export interface Saving {
  /** Percent fewer labels than random (negative: more); null when neither side got there. */
  pct: number | null;
  /**
   * 'exact' when both reached the target; 'lower' when only this strategy did (random needs
   * more than its last label count, so the saving is at least pct); 'upper' when only random did.
   */
  bound: 'exact' | 'lower' | 'upper' | 'none';
}

/** Medians over repeats of one strategy's curves. */
export interface StrategySummary {
  strategy: string;
  repeats: number;
  /** Area under accuracy vs labels divided by the label range (the curve's mean accuracy). */
  auc: number | null;
  full_accuracy: number | null;
  labels_to_reach: Record<ReachKey, number | null>;
  saving_vs_random: Record<ReachKey, Saving>;
  /**
   * Lowest over label counts of the median over repeats of the paired (strategy - random)
   * accuracy gap, in accuracy points: how far below random the median curve ever goes.
   */
  worst_gap_to_random: number | null;
  /** Median over repeats of each repeat's own lowest paired gap (more pessimistic: a min of noisy points). */
  worst_gap_per_repeat: number | null;
  final: StopPoint | null;
  stop: StopPoint | null;
}

/** Everything `DIR/results.json` holds. */
export interface SimulationResults {
  format: 'alder-simulate/1';
  created_at: string;
  mode: 'in-process' | 'api';
  config: Record<string, unknown>;
  dataset: { train: string; test: string; train_count: number; test_count: number; labels: string[] };
  /** How the stop columns were found. */
  stopping: { note: string };
  full_data: FullDataResult[];
  runs: RunResult[];
  summary: Record<string, StrategySummary>;
  elapsed_ms: number;
}
