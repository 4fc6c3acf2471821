import { problems, type HandlerDeps, type HandlerMap } from '@alder/http';
import type { Schemas } from '@alder/api-types';
import { recommendStop, withCurrentBudget, type CriterionResult } from '@alder/learning';
import { readProgress, type ProgressRow } from './progress.repository';
import { findCurrentRanking, listRankingEntries } from './ranking.repository';
import { entryRationale, iso, probabilitiesByLabel, round, toMetrics, toModelStopping } from './serialize';

/**
 * The stopping state of now: the model-based criteria as the trainer judged them for the current
 * model (nothing to judge before the first one), with the budget criterion recomputed from the
 * label count and budget of now, since labels keep arriving between models.
 */
function currentStopping(p: ProgressRow): Schemas['Stopping'] {
  const stored = p.model_version === null ? null : toModelStopping(p.model_stopping);
  const judged = stored
    ? // Names come from the trainer's recommendStop; an unknown one is kept as evidence.
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

/** Progress of the loop, and the current ranking of the pool. */
export function progressHandlers({ pool }: HandlerDeps): HandlerMap {
  return {
    getProgress: async (request) => {
      const projectId = request.params.project_id;
      const p = await readProgress(pool, projectId);
      if (!p) throw problems.notFound(`No project ${projectId}.`);
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
        training: { in_progress: p.training_version !== null, version: p.training_version, started_at: iso(p.training_started_at) },
        current_model:
          p.model_version === null
            ? null
            : { version: p.model_version, metrics: toMetrics(p.model_metrics), train_count: p.model_train_count ?? 0, finished_at: iso(p.model_finished_at) },
        ranking:
          p.ranking_id === null
            ? null
            : {
                id: p.ranking_id,
                strategy: p.ranking_strategy ?? '',
                model_version: p.ranking_model_version,
                item_count: p.ranking_item_count ?? 0,
                created_at: p.ranking_created_at!.toISOString(),
              },
        stopping: currentStopping(p),
      } satisfies Schemas['Progress'];
    },

    getRanking: async (request) => {
      const projectId = request.params.project_id;
      const limit = request.query.limit ?? 50;
      const offset = request.query.offset ?? 0;
      const ranking = await findCurrentRanking(pool, projectId);
      if (ranking === undefined) throw problems.notFound(`No project ${projectId}.`);
      if (ranking === null) return { ranking: null, data: [], total: 0, limit, offset };
      const { rows, total } = await listRankingEntries(pool, ranking.id, limit, offset);
      return {
        ranking: { id: ranking.id, strategy: ranking.strategy, model_version: ranking.model_version, item_count: ranking.item_count, created_at: ranking.created_at.toISOString() },
        data: rows.map((row, i) => ({
          position: offset + i + 1,
          item: { id: row.item_id, external_id: row.external_id, text_excerpt: row.text_excerpt },
          priority: round(row.priority)!,
          score: round(row.score),
          probabilities: probabilitiesByLabel(ranking.model_labels, row.probs),
          rationale: entryRationale(row.rationale, ranking.strategy, ranking.model_labels, row.probs),
          leased: row.leased,
        })),
        total,
        limit,
        offset,
      } satisfies Schemas['RankingPage'];
    },
  };
}
