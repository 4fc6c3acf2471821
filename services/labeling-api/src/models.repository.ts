import type { Queryable } from '@alder/db';

export interface ModelRow {
  version: number;
  status: 'training' | 'ready' | 'failed';
  is_current: boolean;
  labels: string[];
  backend: string | null;
  train_count: number;
  test_count: number;
  metrics: unknown;
  stopping: unknown;
  train_ms: number | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const COLUMNS = `m.version, m.status, (m.id = p.current_model_id) IS TRUE AS is_current, m.labels, m.backend,
  m.train_count, m.test_count, m.metrics, m.stopping, m.train_ms, m.error, m.started_at, m.finished_at`;

/** A project's model versions, oldest first (the learning curve); null when there is no project. */
export async function listModels(db: Queryable, projectId: string, limit: number, offset: number): Promise<{ rows: ModelRow[]; total: number } | null> {
  const count = await db.query<{ total: number }>(
    'SELECT (SELECT count(*) FROM models WHERE project_id = p.id)::int AS total FROM projects p WHERE p.id = $1',
    [projectId],
  );
  if (!count.rowCount) return null;
  const { rows } = await db.query<ModelRow>(
    `SELECT ${COLUMNS} FROM models m JOIN projects p ON p.id = m.project_id
     WHERE m.project_id = $1 ORDER BY m.version LIMIT $2 OFFSET $3`,
    [projectId, limit, offset],
  );
  return { rows, total: count.rows[0]!.total };
}

export async function findModel(db: Queryable, projectId: string, version: number): Promise<ModelRow | null> {
  const { rows } = await db.query<ModelRow>(
    `SELECT ${COLUMNS} FROM models m JOIN projects p ON p.id = m.project_id WHERE m.project_id = $1 AND m.version = $2`,
    [projectId, version],
  );
  return rows[0] ?? null;
}
