import type { Queryable } from '@alder/db';

export interface ProjectRow {
  id: string;
  name: string;
  labels: string[];
  guidelines: string;
  strategy: string;
  retrain_every: number;
  lease_seconds: number;
  label_budget: number | null;
  label_count: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, name, labels, guidelines, strategy, retrain_every, lease_seconds, label_budget, label_count, created_at, updated_at';

export interface ProjectSettings {
  name?: string;
  labels?: string[];
  guidelines?: string;
  strategy?: string;
  retrain_every?: number;
  lease_seconds?: number;
  /** null removes the budget; undefined keeps it. */
  label_budget?: number | null;
}

/** Inserts a project; settings left out take the column defaults. */
export async function insertProject(db: Queryable, input: ProjectSettings & { name: string; labels: string[] }): Promise<ProjectRow> {
  const { rows } = await db.query<ProjectRow>(
    `INSERT INTO projects (name, labels, guidelines, strategy, retrain_every, lease_seconds, label_budget)
     VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, 'auto'), COALESCE($5, 20), COALESCE($6, 600), $7)
     RETURNING ${COLUMNS}`,
    [input.name, input.labels, input.guidelines ?? null, input.strategy ?? null, input.retrain_every ?? null, input.lease_seconds ?? null, input.label_budget ?? null],
  );
  return rows[0]!;
}

export async function findProject(db: Queryable, id: string, lock = false): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 ${lock ? 'FOR NO KEY UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

export async function listProjects(db: Queryable, limit: number, offset: number): Promise<{ rows: ProjectRow[]; total: number }> {
  const [page, count] = await Promise.all([
    db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects ORDER BY created_at DESC, id LIMIT $1 OFFSET $2`, [limit, offset]),
    db.query<{ total: number }>('SELECT count(*)::int AS total FROM projects'),
  ]);
  return { rows: page.rows, total: count.rows[0]!.total };
}

export async function projectHasItems(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query('SELECT 1 FROM items WHERE project_id = $1 LIMIT 1', [id]);
  return rowCount === 1;
}

/** Changes the settings given (undefined keeps the current value; so does null, except for label_budget, which it clears). */
export async function updateProject(db: Queryable, id: string, changes: ProjectSettings): Promise<ProjectRow> {
  const { rows } = await db.query<ProjectRow>(
    `UPDATE projects SET
       name = COALESCE($2, name),
       labels = COALESCE($3, labels),
       guidelines = COALESCE($4, guidelines),
       strategy = COALESCE($5, strategy),
       retrain_every = COALESCE($6, retrain_every),
       lease_seconds = COALESCE($7, lease_seconds),
       label_budget = CASE WHEN $8 THEN $9::integer ELSE label_budget END,
       updated_at = now()
     WHERE id = $1
     RETURNING ${COLUMNS}`,
    [
      id,
      changes.name ?? null,
      changes.labels ?? null,
      changes.guidelines ?? null,
      changes.strategy ?? null,
      changes.retrain_every ?? null,
      changes.lease_seconds ?? null,
      changes.label_budget !== undefined,
      changes.label_budget ?? null,
    ],
  );
  return rows[0]!;
}
