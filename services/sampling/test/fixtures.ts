// The shared TREC seeding lives in @alder/fixtures; sampling adds a stored, trained model.
import type { Pool } from '@alder/db';
import { TREC_LABELS } from '@alder/fixtures';
import { serializeModel, trainClassifier } from '@alder/learning';

export { TREC_LABELS, trec, insertItems, annotate, seedProject, type SeededProject } from '@alder/fixtures';

/**
 * Trains a small model on the project's annotated items with the learning package and stores it
 * as the project's current, ready model (what the trainer does, without the queue).
 */
export async function storeTrainedModel(pool: Pool, projectId: string, version = 1): Promise<number> {
  const { rows } = await pool.query<{ text: string; label: string }>(
    `SELECT i.text, a.label FROM annotations a JOIN items i ON i.id = a.item_id WHERE a.project_id = $1 ORDER BY a.id`,
    [projectId],
  );
  const model = await trainClassifier(rows.map((r) => r.text), rows.map((r) => TREC_LABELS.indexOf(r.label)), TREC_LABELS.length, { seed: 1, minSteps: 100 });
  const params = serializeModel(model);
  const inserted = await pool.query<{ id: number }>(
    `INSERT INTO models (project_id, version, status, request_key, labels, params, backend, train_count, finished_at)
     VALUES ($1, $2, 'ready', $3, $4, $5, $6, $7, now()) RETURNING id`,
    [projectId, version, `test-model-${projectId}-${version}`, TREC_LABELS, Buffer.from(params), model.meta.backend, rows.length],
  );
  const modelId = inserted.rows[0]!.id;
  await pool.query('UPDATE projects SET current_model_id = $2 WHERE id = $1', [projectId, modelId]);
  return modelId;
}
