// The part of @alder/learning that loads no TensorFlow.js, for processes that only read what the
// workers computed (the labeling API, ingest, @alder/contracts): strategy names, the one-line
// rationale, and the stopping rule. Every file reached from here imports no '@tensorflow/*'
// module; services/labeling-api/test/no-tensorflow.test.ts proves it in a fresh process.
export { isScoreName, rationale, SCORE_NAMES, STRATEGY_NAMES, type ScoreName, type StrategyName } from './strategies';
export {
  budgetReached,
  DEFAULT_STOPPING_OPTIONS,
  recommendStop,
  STOP_RULE,
  withCurrentBudget,
  type CriterionName,
  type CriterionResult,
  type StoppingOptions,
  type StoppingState,
  type StopRecommendation,
  type StopSetPredictions,
} from './stopping';
