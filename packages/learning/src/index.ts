export { initBackend, type BackendPreference } from './backend';
export { coldStartOrder, type ColdStartOptions } from './cold-start';
export { DEFAULT_FEATURE_CONFIG, featurize, memoizeFeatures, resolveFeatureConfig, type FeatureConfig } from './features';
export { argmaxRows, evaluate, type ClassMetrics, type Evaluation } from './metrics';
export { headInputDim, type Pooling, type TrainedModel, type TrainingMeta } from './model';
export { embed, predictProba, predictProbaTf } from './predict';
export { createRng, drawKey, type Rng } from './rng';
export { deserializeModel, serializeModel } from './serialize';
export { isScoreName, rationale, SCORE_NAMES, scorePool, STRATEGY_NAMES, uncertainty, type ScoreName, type StrategyName } from './strategies';
export { denseKMeans, kCenterGreedy, kMeansPlusPlus, type DenseRows } from './diversity';
export {
  AUTO_COVERAGE_TILT,
  AUTO_RAMP_END,
  AUTO_RAMP_START,
  BALD_DROPOUT,
  autoUncertainShare,
  HYBRID_SHORTLIST_FACTOR,
  rankPool,
  selectBatch,
  trainOptionsFor,
  type RankedPool,
  type SelectionContext,
} from './selection';
export { selectionContext } from './selection-context';
export { badgeEmbeddings, baldScores } from './uncertainty-models';
export { COMMITTEE_SIZE, committeeScores, trainCommittee, type CommitteeScores } from './committee';
export { tokenize } from './tokenize';
export { trainClassifier, type EpochInfo, type TrainOptions } from './train';
export { type Weighting } from './vocabulary';
export {
  budgetReached,
  classificationChange,
  cohenKappa,
  DEFAULT_STOPPING_OPTIONS,
  overallUncertainty,
  recommendStop,
  stabilizingPredictions,
  STOP_RULE,
  withCurrentBudget,
  type CriterionResult,
  type LabelVector,
  type StabilizingResult,
  type StoppingOptions,
  type StoppingState,
  type StopRecommendation,
  type StopSetPredictions,
} from './stopping';
