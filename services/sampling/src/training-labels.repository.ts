import type { Queryable } from '@alder/db';

/** What a model was trained on, for batch strategies: the label count and a sample of labelled texts. */
export interface TrainingSample {
  count: number;
  texts: string[];
  labels: string[];
}

/**
 * The number of annotations `modelId` saw (model_training_labels) and at most `limit` of them with
 * their item texts, in a fixed pseudo-random order (md5 of the annotation id), so a re-run of the
 * job sees the same sample.
 */
export async function trainingSample(db: Queryable, modelId: number, limit: number): Promise<TrainingSample> {
  const counted = await db.query<{ n: string }>('SELECT count(*) AS n FROM model_training_labels WHERE model_id = $1', [modelId]);
  const { rows } = await db.query<{ text: string; label: string }>(
    `SELECT i.text, a.label FROM model_training_labels t
       JOIN annotations a ON a.id = t.annotation_id
       JOIN items i ON i.id = a.item_id
      WHERE t.model_id = $1
      ORDER BY md5(a.id::text) LIMIT $2`,
    [modelId, limit],
  );
  return { count: Number(counted.rows[0]?.n ?? 0), texts: rows.map((r) => r.text), labels: rows.map((r) => r.label) };
}
