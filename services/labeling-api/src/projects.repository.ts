import type { Queryable } from '@alder/db';
import { MEMBER_PROJECTS_SQL } from '@alder/http';

export interface ProjectRow {
  id: string;
  name: string;
  labels: string[];
  guidelines: string;
  strategy: string;
  retrain_every: number;
  on_resend: 'skip' | 'update' | 'reject';
  on_duplicate_text: 'report' | 'skip' | 'link';
  lease_seconds: number;
  label_budget: number | null;
  overlap_annotators: number;
  overlap_fraction: number;
  label_descriptions: Record<string, string>;
  rationale_required: 'never' | 'always' | 'labels';
  rationale_labels: string[];
  review_model_disagreement: number | null;
  review_low_confidence: number | null;
  review_late: boolean;
  min_agreement: number;
  gold_rate: number;
  label_count: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, name, labels, guidelines, strategy, retrain_every, on_resend, on_duplicate_text, lease_seconds, label_budget, overlap_annotators, overlap_fraction,
  label_descriptions, rationale_required, rationale_labels, review_model_disagreement, review_low_confidence, review_late, min_agreement,
  gold_rate, label_count, created_at, updated_at`;

/** The rules a project enforces (its `policy`); a field left out keeps its value. */
export interface PolicySettings {
  rationale_required?: 'never' | 'always' | string[];
  review_model_disagreement?: number | null;
  review_low_confidence?: number | null;
  review_late?: boolean;
  min_agreement?: number;
  gold_rate?: number;
}

export interface ProjectSettings {
  name?: string;
  labels?: string[];
  guidelines?: string;
  strategy?: string;
  retrain_every?: number;
  on_resend?: 'skip' | 'update' | 'reject';
  on_duplicate_text?: 'report' | 'skip' | 'link';
  lease_seconds?: number;
  /** null removes the budget; undefined keeps it. */
  label_budget?: number | null;
  overlap?: { annotators: number; fraction?: number };
  label_descriptions?: Record<string, string>;
  policy?: PolicySettings;
}

/** Writes the guidance and policy settings given (the others stay). */
async function updateGuidance(db: Queryable, id: string, changes: ProjectSettings): Promise<ProjectRow> {
  const policy = changes.policy ?? {};
  const rationale = policy.rationale_required;
  const has = (key: keyof PolicySettings) => key in policy;
  const { rows } = await db.query<ProjectRow>(
    `UPDATE projects SET
       label_descriptions = COALESCE($2, label_descriptions),
       rationale_required = COALESCE($3, rationale_required),
       rationale_labels = COALESCE($4, rationale_labels),
       review_model_disagreement = CASE WHEN $5 THEN $6::real ELSE review_model_disagreement END,
       review_low_confidence = CASE WHEN $7 THEN $8::real ELSE review_low_confidence END,
       review_late = COALESCE($9, review_late),
       min_agreement = COALESCE($10::real, min_agreement),
       gold_rate = COALESCE($11::real, gold_rate)
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [
      id,
      changes.label_descriptions ? JSON.stringify(changes.label_descriptions) : null,
      rationale === undefined ? null : Array.isArray(rationale) ? 'labels' : rationale,
      rationale === undefined ? null : Array.isArray(rationale) ? rationale : [],
      has('review_model_disagreement'),
      policy.review_model_disagreement ?? null,
      has('review_low_confidence'),
      policy.review_low_confidence ?? null,
      policy.review_late ?? null,
      policy.min_agreement ?? null,
      policy.gold_rate ?? null,
    ],
  );
  return rows[0]!;
}

/** Inserts a project; settings left out take the column defaults. */
export async function insertProject(db: Queryable, input: ProjectSettings & { name: string; labels: string[] }): Promise<ProjectRow> {
  const { rows } = await db.query<ProjectRow>(
    `INSERT INTO projects (name, labels, guidelines, strategy, retrain_every, lease_seconds, label_budget, overlap_annotators, overlap_fraction, on_resend, on_duplicate_text)
     VALUES ($1, $2, COALESCE($3, ''), COALESCE($4, 'auto'), COALESCE($5, 20), COALESCE($6, 600), $7, COALESCE($8::smallint, 1), COALESCE($9::real, 1),
             COALESCE($10, 'skip'), COALESCE($11, 'report'))
     RETURNING ${COLUMNS}`,
    [
      input.name,
      input.labels,
      input.guidelines ?? null,
      input.strategy ?? null,
      input.retrain_every ?? null,
      input.lease_seconds ?? null,
      input.label_budget ?? null,
      input.overlap?.annotators ?? null,
      input.overlap ? (input.overlap.fraction ?? 1) : null,
      input.on_resend ?? null,
      input.on_duplicate_text ?? null,
    ],
  );
  return input.label_descriptions || input.policy ? updateGuidance(db, rows[0]!.id, input) : rows[0]!;
}

export async function findProject(db: Queryable, id: string, lock = false): Promise<ProjectRow | null> {
  const { rows } = await db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE id = $1 ${lock ? 'FOR NO KEY UPDATE' : ''}`, [id]);
  return rows[0] ?? null;
}

/** One page of projects, newest first: every project, or with `memberId` only that user's. */
export async function listProjects(db: Queryable, limit: number, offset: number, memberId: string | null): Promise<{ rows: ProjectRow[]; total: number }> {
  const visible = `($1::uuid IS NULL OR id IN (${MEMBER_PROJECTS_SQL}))`;
  const [page, count] = await Promise.all([
    db.query<ProjectRow>(`SELECT ${COLUMNS} FROM projects WHERE ${visible} ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, [memberId, limit, offset]),
    db.query<{ total: number }>(`SELECT count(*)::int AS total FROM projects WHERE ${visible}`, [memberId]),
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
       overlap_annotators = COALESCE($10, overlap_annotators),
       overlap_fraction = COALESCE($11, overlap_fraction),
       on_resend = COALESCE($12, on_resend),
       on_duplicate_text = COALESCE($13, on_duplicate_text),
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
      changes.overlap?.annotators ?? null,
      changes.overlap ? (changes.overlap.fraction ?? 1) : null,
      changes.on_resend ?? null,
      changes.on_duplicate_text ?? null,
    ],
  );
  return changes.label_descriptions || changes.policy ? updateGuidance(db, id, changes) : rows[0]!;
}

/**
 * Applies the project's overlap setting to the items not yet fully labeled: k for the items in
 * its fraction, else 1, never below the slots an item already has taken (its slots' key would
 * refuse that). Items that now have all their annotations become labeled. Returns how many
 * items changed. Call in the transaction that changed the setting.
 */
export async function applyOverlap(db: Queryable, projectId: string): Promise<number> {
  const { rowCount } = await db.query(
    `WITH target AS (
       SELECT i.id,
              GREATEST(
                CASE WHEN p.overlap_annotators > 1 AND overlap_member(p.id, i.external_id, p.overlap_fraction) THEN p.overlap_annotators ELSE 1 END,
                COALESCE((SELECT max(s.slot) + 1 FROM item_slots s WHERE s.item_id = i.id), 1)
              ) AS required
       FROM items i JOIN projects p ON p.id = i.project_id
       WHERE i.project_id = $1 AND i.split = 'pool' AND i.status = 'unlabeled'
     )
     UPDATE items i SET required_annotations = t.required
     FROM target t WHERE i.id = t.id AND i.required_annotations <> t.required`,
    [projectId],
  );
  await db.query(
    `UPDATE items i SET status = 'labeled'
     WHERE i.project_id = $1 AND i.split = 'pool' AND i.status = 'unlabeled'
       AND (SELECT count(*) FROM item_slots s WHERE s.item_id = i.id AND s.expires_at IS NULL) >= i.required_annotations
       AND EXISTS (SELECT 1 FROM item_slots s WHERE s.item_id = i.id)`,
    [projectId],
  );
  return rowCount ?? 0;
}
