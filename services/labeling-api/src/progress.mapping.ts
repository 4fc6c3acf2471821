import type { Schemas } from '@alder/api-types';
import { recommendStop, withCurrentBudget, type CriterionResult } from '@alder/learning/pure';
import { toMetrics, toModelStopping } from './models.mapping';
import type { ProgressRow } from './progress.repository';
import { toRankingInfo } from './ranking.mapping';

/**
 * The stopping state of now: the model-based criteria as the trainer judged them for the current
 * model (nothing to judge before the first one), with the budget criterion recomputed from the
 * label count and budget of now, since labels keep arriving between models.
 */
export function currentStopping(p: ProgressRow): Schemas['Stopping'] {
  const stored = p.model_version === null ? null : toModelStopping(p.model_stopping);
  const judged = stored
    ? // Names come from the trainer's recommendStop; an unknown one (a newer trainer) is kept as evidence.
      { stop_recommended: stored.stop_recommended, criteria: stored.criteria as CriterionResult[] }
    : recommendStop({ numClasses: p.labels.length, labelCount: p.label_count, budget: p.label_budget, history: [], probs: null });
  const now = withCurrentBudget(judged, p.label_count, p.label_budget);
  return {
    stop_recommended: now.stop_recommended,
    criteria: now.criteria,
    evaluated_at_model_version: stored ? p.model_version : null,
    stop_set_size: p.stop_set_size,
  };
}

export function toProgress(projectId: string, p: ProgressRow): Schemas['Progress'] {
  const sinceRequest = p.label_count - p.train_requested_at_count;
  return {
    project_id: projectId,
    items: {
      total: p.items_total,
      pool: p.items_pool,
      test: p.items_test,
      test_labeled: p.items_test_labeled,
      labeled: p.items_labeled,
      unlabeled: p.items_unlabeled,
      leased: p.items_leased,
    },
    annotations: {
      total: p.annotations_total,
      from_annotators: p.annotations_total - p.annotations_imported,
      imported: p.annotations_imported,
    },
    label_count: p.label_count,
    retrain_every: p.retrain_every,
    labels_until_retrain: Math.max(0, p.retrain_every - sinceRequest),
    training: { in_progress: p.training_version !== null, version: p.training_version, started_at: p.training_started_at?.toISOString() ?? null },
    current_model:
      p.model_version === null
        ? null
        : {
            version: p.model_version,
            metrics: toMetrics(p.model_metrics),
            train_count: p.model_train_count ?? 0,
            finished_at: p.model_finished_at?.toISOString() ?? null,
          },
    ranking:
      p.ranking_id === null
        ? null
        : toRankingInfo({
            id: p.ranking_id,
            strategy: p.ranking_strategy!,
            model_version: p.ranking_model_version,
            item_count: p.ranking_item_count ?? 0,
            created_at: p.ranking_created_at!,
          }),
    stopping: currentStopping(p),
  };
}
