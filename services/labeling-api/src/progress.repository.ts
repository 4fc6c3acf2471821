import type { Queryable } from '@alder/db';

export interface ProgressRow {
  labels: string[];
  label_budget: number | null;
  label_count: number;
  train_requested_at_count: number;
  retrain_every: number;
  items_total: number;
  items_pool: number;
  items_test: number;
  items_test_labeled: number;
  items_labeled: number;
  items_unlabeled: number;
  items_leased: number;
  annotations_total: number;
  annotations_imported: number;
  training_version: number | null;
  training_started_at: Date | null;
  model_version: number | null;
  model_metrics: unknown;
  model_train_count: number | null;
  model_finished_at: Date | null;
  model_stopping: unknown;
  stop_set_size: number;
  ranking_id: number | null;
  ranking_strategy: string | null;
  ranking_model_version: number | null;
  ranking_item_count: number | null;
  ranking_created_at: Date | null;
}

/** Everything the progress resource shows, in one statement; null when there is no project. */
export async function readProgress(db: Queryable, projectId: string): Promise<ProgressRow | null> {
  const { rows } = await db.query<ProgressRow>(
    `SELECT p.labels, p.label_budget, p.label_count, p.train_requested_at_count, p.retrain_every,
            c.total AS items_total, c.pool AS items_pool, c.test AS items_test, c.test_labeled AS items_test_labeled,
            c.labeled AS items_labeled, c.unlabeled AS items_unlabeled, c.leased AS items_leased,
            a.total AS annotations_total, a.imported AS annotations_imported,
            t.version AS training_version, t.started_at AS training_started_at,
            m.version AS model_version, m.metrics AS model_metrics, m.train_count AS model_train_count, m.finished_at AS model_finished_at,
            m.stopping AS model_stopping, (SELECT count(*) FROM stop_set_items WHERE project_id = p.id)::int AS stop_set_size,
            r.id AS ranking_id, r.strategy AS ranking_strategy, rm.version AS ranking_model_version,
            r.item_count AS ranking_item_count, r.created_at AS ranking_created_at
     FROM projects p
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS total,
              count(*) FILTER (WHERE split = 'pool')::int AS pool,
              count(*) FILTER (WHERE split = 'test')::int AS test,
              count(*) FILTER (WHERE split = 'test' AND gold_label IS NOT NULL)::int AS test_labeled,
              count(*) FILTER (WHERE split = 'pool' AND status = 'labeled')::int AS labeled,
              count(*) FILTER (WHERE split = 'pool' AND status = 'unlabeled')::int AS unlabeled,
              (SELECT count(DISTINCT s.item_id) FROM item_slots s WHERE s.project_id = p.id AND s.expires_at > now())::int AS leased
       FROM items WHERE project_id = p.id
     ) c
     CROSS JOIN LATERAL (
       SELECT count(*)::int AS total, count(*) FILTER (WHERE source = 'import')::int AS imported
       FROM annotations WHERE project_id = p.id
     ) a
     LEFT JOIN LATERAL (
       SELECT version, started_at FROM models WHERE project_id = p.id AND status = 'training' ORDER BY id DESC LIMIT 1
     ) t ON true
     LEFT JOIN models m ON m.id = p.current_model_id
     LEFT JOIN rankings r ON r.id = p.current_ranking_id
     LEFT JOIN models rm ON rm.id = r.model_id
     WHERE p.id = $1`,
    [projectId],
  );
  return rows[0] ?? null;
}
