export { ContractViolation, parseContract, type ContractIssue } from './contract-violation';
export { classMetricsSchema, modelMetricsSchema, type ModelMetrics } from './model-metrics.contract';
export {
  stoppingCriterionSchema,
  stoppingEvidenceSchema,
  stoppingOptionsSchema,
  type StoppingCriterion,
  type StoppingEvidence,
} from './model-stopping.contract';
export {
  batchPickPriority,
  coldStartPriority,
  COLD_START_STRATEGY,
  derivedRationale,
  entryRationale,
  parseRankingEntry,
  probabilitiesByLabel,
  PROBABILITY_DECIMALS,
  RANKING_STRATEGIES,
  rankingContextSchema,
  rankingEntrySchema,
  rankingStrategySchema,
  storedRationaleSchema,
  toStoredPrecision,
  type RankingContext,
  type RankingEntry,
  type RankingStrategy,
} from './ranking-entry.contract';
export {
  leaseProvenanceSchema,
  SELECTION_STRATEGIES,
  selectionStrategySchema,
  UNRANKED_STRATEGY,
  type LeaseProvenance,
  type SelectionStrategy,
} from './lease-provenance.contract';
