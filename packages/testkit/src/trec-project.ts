// Seeded TREC projects for the worker services' integration tests: items, annotations, labels.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Pool } from '@alder/db';

/** TREC question types: the label set of the seeded projects. */
export const TREC_LABELS = ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'];

interface Row {
  text: string;
  label: string;
}

const cache = new Map<string, Row[]>();

/** Rows of the shared TREC split; jest runs from the repository root. */
export function trec(split: 'train' | 'test'): Row[] {
  let rows = cache.get(split);
  if (!rows) {
    const path = resolve(process.cwd(), `../shared/datasets/trec/${split}.jsonl`);
    rows = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);
    cache.set(split, rows);
  }
  return rows;
}

export interface SeededProject {
  projectId: string;
  poolIds: number[];
  testIds: number[];
  /** Pool item ids that got an annotation. */
  labeledIds: number[];
  annotationIds: number[];
}

/** Inserts items and returns their ids in input order. */
export async function insertItems(pool: Pool, projectId: string, rows: Row[], split: 'pool' | 'test', prefix: string): Promise<number[]> {
  if (!rows.length) return [];
  const { rows: inserted } = await pool.query<{ id: number }>(
    `INSERT INTO items (project_id, external_id, text, split, gold_label, content_hash)
     SELECT $1, e, t, $2, g, decode(h, 'hex') FROM unnest($3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS u(e, t, g, h, n)
     ORDER BY n RETURNING id`,
    [
      projectId,
      split,
      rows.map((_, i) => `${prefix}-${i}`),
      rows.map((r) => r.text),
      rows.map((r) => (split === 'test' ? r.label : null)),
      rows.map((r) => createHash('sha256').update(r.text).digest('hex')),
    ],
  );
  return inserted.map((r) => r.id);
}

/**
 * Annotates items the way the labeling API does: append the annotation, mark the item labeled
 * and count it on the project (the retrain debounce itself is left to the caller).
 */
export async function annotate(pool: Pool, projectId: string, itemIds: number[], labels: string[]): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO annotations (project_id, item_id, label, annotator, source)
     SELECT $1, i, l, 'seed', 'annotator' FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS u(i, l, n) ORDER BY n RETURNING id`,
    [projectId, itemIds, labels],
  );
  await pool.query(`UPDATE items SET status = 'labeled' WHERE id = ANY($1::bigint[])`, [itemIds]);
  await pool.query('UPDATE projects SET label_count = label_count + $2 WHERE id = $1', [projectId, itemIds.length]);
  return rows.map((r) => r.id);
}

/**
 * A TREC project: `poolSize` pool items from train.jsonl (from `offset`), the first `labeled` of
 * them annotated with their true label, and `testSize` test items with gold labels.
 */
export async function seedProject(
  pool: Pool,
  options: { poolSize: number; labeled: number; testSize: number; offset?: number; retrainEvery?: number; strategy?: string },
): Promise<SeededProject> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO projects (name, labels, retrain_every, strategy) VALUES ('trec', $1, $2, $3) RETURNING id`,
    [TREC_LABELS, options.retrainEvery ?? 20, options.strategy ?? 'margin'],
  );
  const projectId = rows[0]!.id;
  const offset = options.offset ?? 0;
  const poolRows = trec('train').slice(offset, offset + options.poolSize);
  const poolIds = await insertItems(pool, projectId, poolRows, 'pool', 'p');
  const testIds = await insertItems(pool, projectId, trec('test').slice(0, options.testSize), 'test', 't');
  const labeledIds = poolIds.slice(0, options.labeled);
  const annotationIds = await annotate(pool, projectId, labeledIds, poolRows.slice(0, options.labeled).map((r) => r.label));
  await pool.query('UPDATE projects SET train_requested_at_count = label_count WHERE id = $1', [projectId]);
  return { projectId, poolIds, testIds, labeledIds, annotationIds };
}
