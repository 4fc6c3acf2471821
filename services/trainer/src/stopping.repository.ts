import type { Pool, PoolClient } from '@alder/db';
import { withTransaction } from '@alder/db';

/** Stop-set items per project (Bloodgood & Vijay-Shanker's size). */
export const STOP_SET_SIZE = 2_000;
/** Earlier models whose stop-set predictions are read; enough for the window after collapsing same-label retrains. */
export const HISTORY_MODELS = 32;

export interface StopSetItem {
  itemId: number;
  text: string;
}

/**
 * The project's stop set in position order, chosen first if the project has none yet: up to
 * STOP_SET_SIZE unlabeled pool items, ordered by a hash of project and item id (a deterministic,
 * seed-free shuffle, so not the head of the file). With no unlabeled pool item none is chosen,
 * and the next training tries again. The project row is locked while choosing, so two trainers
 * never choose twice.
 */
export async function ensureStopSet(pool: Pool, projectId: string): Promise<StopSetItem[]> {
  const existing = await readStopSet(pool, projectId);
  if (existing.length) return existing;
  await withTransaction(pool, async (client) => {
    await client.query('SELECT 1 FROM projects WHERE id = $1 FOR NO KEY UPDATE', [projectId]);
    await client.query(
      `INSERT INTO stop_set_items (project_id, position, item_id)
       SELECT $1, (row_number() OVER (ORDER BY h, id) - 1)::int, id
         FROM (SELECT id, md5(project_id::text || ':' || id::text) AS h FROM items
                WHERE project_id = $1 AND split = 'pool' AND status = 'unlabeled'
                ORDER BY h, id LIMIT $2) chosen
        WHERE NOT EXISTS (SELECT 1 FROM stop_set_items WHERE project_id = $1)`,
      [projectId, STOP_SET_SIZE],
    );
  });
  return readStopSet(pool, projectId);
}

async function readStopSet(pool: Pool, projectId: string): Promise<StopSetItem[]> {
  const { rows } = await pool.query<{ item_id: number; text: string }>(
    `SELECT s.item_id, i.text FROM stop_set_items s JOIN items i ON i.id = s.item_id
      WHERE s.project_id = $1 ORDER BY s.position`,
    [projectId],
  );
  return rows.map((r) => ({ itemId: r.item_id, text: r.text }));
}

export interface EarlierPredictions {
  version: number;
  trainCount: number;
  predictions: number[];
}

/**
 * Stop-set predictions of the project's ready models older than `version` that share its label
 * set (a model with other labels indexes other classes), newest first.
 */
export async function readEarlierPredictions(
  client: PoolClient,
  input: { projectId: string; version: number; labels: string[] },
): Promise<EarlierPredictions[]> {
  const { rows } = await client.query<{ version: number; train_count: number; predictions: number[] }>(
    `SELECT m.version, m.train_count, s.predictions
       FROM models m JOIN model_stop_predictions s ON s.model_id = m.id
      WHERE m.project_id = $1 AND m.status = 'ready' AND m.version < $2 AND m.labels = $3
      ORDER BY m.version DESC LIMIT $4`,
    [input.projectId, input.version, input.labels, HISTORY_MODELS],
  );
  return rows.map((r) => ({ version: r.version, trainCount: r.train_count, predictions: r.predictions }));
}

/** label_count and label_budget of the project; call with its row locked. */
export async function readBudget(client: PoolClient, projectId: string): Promise<{ labelCount: number; budget: number | null }> {
  const { rows } = await client.query<{ label_count: number; label_budget: number | null }>(
    'SELECT label_count, label_budget FROM projects WHERE id = $1',
    [projectId],
  );
  return { labelCount: rows[0]?.label_count ?? 0, budget: rows[0]?.label_budget ?? null };
}

export async function saveStopping(
  client: PoolClient,
  input: { modelId: number; predictions: Int32Array | null; stopping: unknown },
): Promise<void> {
  if (input.predictions) {
    await client.query(
      `INSERT INTO model_stop_predictions (model_id, predictions) VALUES ($1, $2::smallint[])
       ON CONFLICT (model_id) DO UPDATE SET predictions = EXCLUDED.predictions`,
      [input.modelId, Array.from(input.predictions)],
    );
  }
  await client.query('UPDATE models SET stopping = $2 WHERE id = $1', [input.modelId, JSON.stringify(input.stopping)]);
}
