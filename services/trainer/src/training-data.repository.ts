import type { Pool } from '@alder/db';

export interface TrainingData {
  /** Texts, label indexes (into the model's labels) and annotation ids of the training set. */
  texts: string[];
  labels: number[];
  annotationIds: number[];
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

/**
 * Reads the training set (for each labeled pool item, its latest annotation, when that label is
 * in `labels`) and the test set (test items whose gold label is in `labels`) in one snapshot,
 * together with the project's label count.
 */
export async function loadTrainingData(pool: Pool, projectId: string, labels: string[]): Promise<TrainingData> {
  const index = new Map(labels.map((label, i) => [label, i]));
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const project = await client.query<{ label_count: number }>('SELECT label_count FROM projects WHERE id = $1', [projectId]);
    const train = await client.query<{ id: number; label: string; text: string }>(
      `SELECT latest.id, latest.label, i.text
         FROM (SELECT DISTINCT ON (item_id) id, item_id, label
                 FROM annotations WHERE project_id = $1 ORDER BY item_id, id DESC) latest
         JOIN items i ON i.id = latest.item_id
        WHERE i.split = 'pool'
        ORDER BY latest.id`,
      [projectId],
    );
    const test = await client.query<{ text: string; gold_label: string }>(
      `SELECT text, gold_label FROM items
        WHERE project_id = $1 AND split = 'test' AND gold_label = ANY($2::text[]) ORDER BY id`,
      [projectId, labels],
    );
    await client.query('COMMIT');

    const data: TrainingData = { texts: [], labels: [], annotationIds: [], testTexts: [], testLabels: [], labelCountSeen: project.rows[0]?.label_count ?? 0, maxAnnotationId: null };
    for (const row of train.rows) {
      data.maxAnnotationId = Math.max(data.maxAnnotationId ?? 0, row.id);
      // The latest annotation decides; a label no longer in the set drops the item rather than
      // falling back to an older annotation.
      const y = index.get(row.label);
      if (y === undefined) continue;
      data.texts.push(row.text);
      data.labels.push(y);
      data.annotationIds.push(row.id);
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
