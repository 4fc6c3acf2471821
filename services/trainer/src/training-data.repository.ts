import type { Pool } from '@alder/db';

export interface TrainingData {
  /** Texts, label indexes (into the model's labels) and annotation ids of the training set. */
  texts: string[];
  labels: number[];
  annotationIds: number[];
  /** Per training example: the item, its label, and where the label came from (model_training_set). */
  examples: { itemId: number; label: string; source: 'resolution' | 'annotation'; sourceId: number }[];
  testTexts: string[];
  testLabels: number[];
  /** projects.label_count in the same snapshot: what the follow-up rule compares against. */
  labelCountSeen: number;
  /**
   * The highest annotation id read (pool items), including latest labels that were skipped as
   * outside the label set: every annotation up to it was considered. NULL with none.
   */
  maxAnnotationId: number | null;
}

/** The rule an unresolved item's training label follows; recorded as the model's label_rule. */
export const LABEL_RULE = 'resolved, else plurality of active annotations (ties: the latest)';

/**
 * Reads the training set and the test set (test items whose gold label is in `labels`) in one
 * snapshot, together with the project's label count. An item trains on its resolved label (the
 * latest item_resolutions row) when it has one; else on LABEL_RULE over its active annotations
 * (those after its annotations_from: a review's reject sets earlier ones aside). Gold items
 * never train. A label no longer in `labels` drops the item.
 */
export async function loadTrainingData(pool: Pool, projectId: string, labels: string[]): Promise<TrainingData> {
  const index = new Map(labels.map((label, i) => [label, i]));
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const project = await client.query<{ label_count: number }>('SELECT label_count FROM projects WHERE id = $1', [projectId]);
    const train = await client.query<{ item_id: number; text: string; label: string; source: 'resolution' | 'annotation'; source_id: number; annotation_id: number | null; max_annotation_id: number | null }>(
      `WITH active AS (
         SELECT a.id, a.item_id, a.label FROM annotations a JOIN items i ON i.id = a.item_id
         WHERE a.project_id = $1 AND i.split = 'pool' AND i.gold_answer IS NULL AND a.id > i.annotations_from
       ), votes AS (
         SELECT item_id, label, count(*) AS n, max(id) AS last_id FROM active GROUP BY item_id, label
       ), plurality AS (
         SELECT DISTINCT ON (item_id) item_id, label, last_id FROM votes ORDER BY item_id, n DESC, last_id DESC
       ), latest_active AS (
         SELECT item_id, max(id) AS last_id FROM active GROUP BY item_id
       ), resolved AS (
         SELECT DISTINCT ON (item_id) item_id, id, label FROM item_resolutions WHERE project_id = $1 ORDER BY item_id, id DESC
       )
       SELECT i.id AS item_id, i.text, COALESCE(r.label, p.label) AS label,
              CASE WHEN r.id IS NOT NULL THEN 'resolution' ELSE 'annotation' END AS source,
              COALESCE(r.id, p.last_id) AS source_id,
              CASE WHEN r.id IS NULL THEN p.last_id END AS annotation_id,
              la.last_id AS max_annotation_id
       FROM items i
       LEFT JOIN resolved r ON r.item_id = i.id
       LEFT JOIN plurality p ON p.item_id = i.id
       LEFT JOIN latest_active la ON la.item_id = i.id
       WHERE i.project_id = $1 AND i.split = 'pool' AND i.gold_answer IS NULL AND (r.id IS NOT NULL OR p.item_id IS NOT NULL)
       ORDER BY la.last_id NULLS LAST, i.id`,
      [projectId],
    );
    const test = await client.query<{ text: string; gold_label: string }>(
      `SELECT text, gold_label FROM items
        WHERE project_id = $1 AND split = 'test' AND gold_label = ANY($2::text[]) ORDER BY id`,
      [projectId, labels],
    );
    await client.query('COMMIT');

    const data: TrainingData = {
      texts: [],
      labels: [],
      annotationIds: [],
      examples: [],
      testTexts: [],
      testLabels: [],
      labelCountSeen: project.rows[0]?.label_count ?? 0,
      maxAnnotationId: null,
    };
    for (const row of train.rows) {
      if (row.max_annotation_id !== null) data.maxAnnotationId = Math.max(data.maxAnnotationId ?? 0, Number(row.max_annotation_id));
      // A label no longer in the set drops the item rather than falling back to another one.
      const y = index.get(row.label);
      if (y === undefined) continue;
      data.texts.push(row.text);
      data.labels.push(y);
      if (row.annotation_id !== null) data.annotationIds.push(Number(row.annotation_id));
      data.examples.push({ itemId: Number(row.item_id), label: row.label, source: row.source, sourceId: Number(row.source_id) });
    }
    for (const row of test.rows) {
      data.testTexts.push(row.text);
      data.testLabels.push(index.get(row.gold_label)!);
    }
    return data;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
