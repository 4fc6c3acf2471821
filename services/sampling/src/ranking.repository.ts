import type { Pool, PoolClient, Queryable } from '@alder/db';
import { claimJob, emitEvent } from '@alder/queues';

/** Ready rankings kept per project (the current one included); older ones are pruned. */
export const RANKINGS_KEPT = 3;
/** A ranking still `building` after this long belongs to a job that crashed and gave up. */
export const ABANDONED_BUILD_MINUTES = 60;

export interface ProjectForRanking {
  labels: string[];
  strategy: string;
  currentModelId: number | null;
  /** Labels between trainings: the size of the batch a batch strategy selects. */
  retrainEvery: number;
}

export async function loadProject(db: Queryable, projectId: string): Promise<ProjectForRanking | null> {
  const { rows } = await db.query<{ labels: string[]; strategy: string; current_model_id: number | null; retrain_every: number }>(
    'SELECT labels, strategy, current_model_id, retrain_every FROM projects WHERE id = $1',
    [projectId],
  );
  const row = rows[0];
  return row ? { labels: row.labels, strategy: row.strategy, currentModelId: row.current_model_id, retrainEvery: row.retrain_every } : null;
}

export interface StoredModel {
  id: number;
  labels: string[];
  params: Buffer;
}

export async function loadModel(db: Queryable, modelId: number): Promise<StoredModel> {
  const { rows } = await db.query<{ id: number; labels: string[]; params: Buffer | null; status: string }>(
    'SELECT id, labels, params, status FROM models WHERE id = $1',
    [modelId],
  );
  const row = rows[0];
  if (!row || row.status !== 'ready' || !row.params) throw new Error(`model ${modelId} is not a ready model with parameters`);
  return { id: row.id, labels: row.labels, params: row.params };
}

/** The ranking a job already made, if any. */
export async function findRanking(db: Queryable, requestKey: string): Promise<{ id: number; status: string } | null> {
  const { rows } = await db.query<{ id: number; status: string }>('SELECT id, status FROM rankings WHERE request_key = $1', [requestKey]);
  return rows[0] ?? null;
}

/** Removes a ranking (its entries go by cascade). */
export async function deleteRanking(db: Queryable, id: number): Promise<void> {
  await db.query('DELETE FROM rankings WHERE id = $1', [id]);
}

export async function createRanking(
  db: Queryable,
  input: { projectId: string; modelId: number | null; strategy: string; requestKey: string },
): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO rankings (project_id, model_id, strategy, request_key, status) VALUES ($1, $2, $3, $4, 'building') RETURNING id`,
    [input.projectId, input.modelId, input.strategy, input.requestKey],
  );
  return rows[0]!.id;
}

export type PublishOutcome = 'published' | 'model-changed' | 'newer-ranking';

/**
 * Makes a built ranking current in one transaction, with the project row locked: only when it
 * was made for the project's current model (NULL for the cold start) and no ranking created
 * after it is current already. Otherwise the ranking is dropped. The job is claimed either way.
 */
export async function publishRanking(
  client: PoolClient,
  input: { projectId: string; rankingId: number; modelId: number | null; itemCount: number; jobKey: string },
): Promise<PublishOutcome> {
  const { rows } = await client.query<{ current_model_id: number | null; current_ranking_id: number | null }>(
    'SELECT current_model_id, current_ranking_id FROM projects WHERE id = $1 FOR NO KEY UPDATE',
    [input.projectId],
  );
  const project = rows[0];
  let outcome: PublishOutcome = 'published';
  if (!project || project.current_model_id !== input.modelId) outcome = 'model-changed';
  else if (project.current_ranking_id !== null && project.current_ranking_id > input.rankingId) outcome = 'newer-ranking';

  if (outcome === 'published') {
    const ready = await client.query<{ strategy: string; model_version: number | null }>(
      `UPDATE rankings r SET status = 'ready', item_count = $2, finished_at = now() WHERE id = $1
       RETURNING r.strategy, (SELECT version FROM models m WHERE m.id = r.model_id) AS model_version`,
      [input.rankingId, input.itemCount],
    );
    await client.query('UPDATE projects SET current_ranking_id = $2, updated_at = now() WHERE id = $1', [input.projectId, input.rankingId]);
    // Outbound webhooks, in the publishing transaction (written only when someone listens).
    const { strategy, model_version } = ready.rows[0]!;
    await emitEvent(client, input.projectId, 'ranking.published', { ranking_id: input.rankingId, item_count: input.itemCount, model_version, strategy });
  } else {
    await deleteRanking(client, input.rankingId);
  }
  await claimJob(client, input.jobKey);
  return outcome;
}

/**
 * Deletes what no one will read again: rankings abandoned while building, and ready rankings
 * beyond the RANKINGS_KEPT most recent, except the current one and any an item is leased from
 * (the annotation copies its provenance from the lease's ranking).
 */
export async function pruneRankings(pool: Pool, projectId: string): Promise<number> {
  const { rowCount } = await pool.query(
    `DELETE FROM rankings r
      WHERE r.project_id = $1
        AND r.id IS DISTINCT FROM (SELECT current_ranking_id FROM projects WHERE id = $1)
        AND NOT EXISTS (SELECT 1 FROM item_slots s WHERE s.ranking_id = r.id AND s.expires_at IS NOT NULL)
        AND ((r.status = 'building' AND r.created_at < now() - make_interval(mins => $3))
          OR (r.status = 'ready' AND r.id NOT IN (
                SELECT id FROM rankings WHERE project_id = $1 AND status = 'ready' ORDER BY id DESC LIMIT $2)))`,
    [projectId, RANKINGS_KEPT, ABANDONED_BUILD_MINUTES],
  );
  return rowCount ?? 0;
}
