export { initBackend, type BackendPreference } from './backend';
export { coldStartOrder, type ColdStartOptions } from './cold-start';
export { DEFAULT_FEATURE_CONFIG, featurize, resolveFeatureConfig, type FeatureConfig } from './features';
export { argmaxRows, evaluate, type ClassMetrics, type Evaluation } from './metrics';
export { type Pooling, type TrainedModel, type TrainingMeta } from './model';
export { embed, predictProba, predictProbaTf } from './predict';
export { createRng, type Rng } from './rng';
export { deserializeModel, serializeModel } from './serialize';
export { rationale, scorePool, STRATEGY_NAMES, uncertainty, type StrategyName } from './strategies';
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
