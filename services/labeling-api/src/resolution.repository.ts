import type { Queryable } from '@alder/db';
import type { ResolutionRule, ReviewReason } from './resolution';

// The one module with SQL on item_resolutions, review_queue and reviews.

export interface ActiveAnnotation {
  id: number;
  user_id: string | null;
  annotator: string;
  label: string;
  rationale: string | null;
  late: boolean;
  created_at: Date;
  /** What the model showed on this annotation's lease: probabilities in the model's label order. */
  probs: number[] | null;
  model_labels: string[] | null;
}

/** The item's annotations that count (after its annotations_from), oldest first. */
export async function activeAnnotations(db: Queryable, itemId: number): Promise<ActiveAnnotation[]> {
  const { rows } = await db.query<ActiveAnnotation>(
    `SELECT a.id, a.user_id, a.annotator, a.label, a.rationale, a.late, a.created_at, l.selection_probs AS probs, m.labels AS model_labels
     FROM annotations a
     JOIN items i ON i.id = a.item_id
     LEFT JOIN task_leases l ON l.id = a.lease_id
     LEFT JOIN models m ON m.id = a.model_id
     WHERE a.item_id = $1 AND a.id > i.annotations_from
     ORDER BY a.id`,
    [itemId],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export interface StoredResolution {
  id: number;
  label: string;
  rule: ResolutionRule;
  created_at: Date;
}

export async function insertResolution(
  db: Queryable,
  input: { projectId: string; itemId: number; label: string; rule: ResolutionRule; annotationIds: number[]; reviewId?: string | null; decidedBy?: string | null },
): Promise<StoredResolution> {
  const { rows } = await db.query<StoredResolution>(
    `INSERT INTO item_resolutions (project_id, item_id, label, rule, review_id, decided_by, annotation_ids)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, label, rule, created_at`,
    [input.projectId, input.itemId, input.label, input.rule, input.reviewId ?? null, input.decidedBy ?? null, input.annotationIds],
  );
  return { ...rows[0]!, id: Number(rows[0]!.id) };
}

/**
 * The INSERT of one annotation's resolution of its item, for the statement that writes the
 * annotation (the annotator's submit): `annotationId` and `when` are expressions of that
 * statement (the annotation's id; that it completed the item). Returns the resolution's id.
 */
export function singleResolutionInsertSql(p: { project: string; item: string; label: string; rule: string; annotationId: string; from: string; when: string }): string {
  return `INSERT INTO item_resolutions (project_id, item_id, label, rule, annotation_ids)
          SELECT ${p.project}, ${p.item}, ${p.label}, ${p.rule}, ARRAY[${p.annotationId}] FROM ${p.from} WHERE ${p.when}
          RETURNING id`;
}

/** Puts an item in the review queue (again, after a reject: the entry starts over). */
export async function queueForReview(
  db: Queryable,
  input: { projectId: string; itemId: number; priority: number; reasons: ReviewReason[]; proposedLabel: string | null; aboutUserId?: string | null },
): Promise<void> {
  await db.query(
    `INSERT INTO review_queue (item_id, project_id, priority, reasons, proposed_label, about_user_id)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (item_id) DO UPDATE SET priority = EXCLUDED.priority, reasons = EXCLUDED.reasons, proposed_label = EXCLUDED.proposed_label,
       about_user_id = EXCLUDED.about_user_id, stage = 'review', review_id = NULL, leased_until = NULL, updated_at = now()`,
    [input.itemId, input.projectId, input.priority, input.reasons, input.proposedLabel, input.aboutUserId ?? null],
  );
}

export type ReviewStage = 'review' | 'escalated';

export interface ClaimedReview {
  review_id: string;
  previous_review: string | null;
  item_id: number;
  external_id: string;
  text: string;
  meta: Record<string, unknown>;
  proposed_label: string | null;
  reasons: ReviewReason[];
  gold_answer: string | null;
  about_user_id: string | null;
  leased_until: Date;
  guidelines: string;
  label_descriptions: Record<string, string>;
}

/**
 * Leases the highest-priority queue entry of the stage that the reviewer may take: not leased
 * now, and not an item they annotated (nobody reviews their own label) nor a gold failure of
 * their own. The lease is written on the entry's row (FOR UPDATE SKIP LOCKED, then re-checked
 * by Postgres if a concurrent claim changed it), and a review row records it. Null when none.
 */
export async function claimReview(db: Queryable, input: { projectId: string; stage: ReviewStage; reviewerId: string; keyId: string | null }): Promise<ClaimedReview | null> {
  const { rows } = await db.query<ClaimedReview>(
    `WITH picked AS (
       SELECT q.item_id, q.review_id AS previous_review
       FROM review_queue q JOIN items i ON i.id = q.item_id
       WHERE q.project_id = $1 AND q.stage = $2 AND (q.leased_until IS NULL OR q.leased_until <= now())
         AND q.about_user_id IS DISTINCT FROM $3
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.item_id = q.item_id AND a.user_id = $3 AND a.id > i.annotations_from)
       ORDER BY q.priority DESC, q.item_id
       LIMIT 1
       FOR UPDATE OF q SKIP LOCKED
     ), leased AS (
       UPDATE review_queue q SET review_id = gen_random_uuid(),
              leased_until = now() + make_interval(secs => (SELECT lease_seconds FROM projects WHERE id = $1)), updated_at = now()
       FROM picked WHERE q.item_id = picked.item_id
       RETURNING q.item_id, q.review_id, q.leased_until, q.proposed_label, q.reasons, q.about_user_id, picked.previous_review
     )
     SELECT l.review_id, l.previous_review, l.item_id, i.external_id, i.text, i.meta, l.proposed_label, l.reasons, i.gold_answer,
            l.about_user_id, l.leased_until, p.guidelines, p.label_descriptions
     FROM leased l JOIN items i ON i.id = l.item_id JOIN projects p ON p.id = i.project_id`,
    [input.projectId, input.stage, input.reviewerId],
  );
  const claimed = rows[0];
  if (!claimed) return null;
  // The previous holder's review (it ran out) is closed, so one review per item is open.
  if (claimed.previous_review) await db.query(`UPDATE reviews SET decision = 'expired', decided_at = now() WHERE id = $1 AND decision IS NULL`, [claimed.previous_review]);
  await db.query(
    `INSERT INTO reviews (id, project_id, item_id, stage, reviewer_id, api_key_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [claimed.review_id, input.projectId, claimed.item_id, input.stage, input.reviewerId, input.keyId, claimed.leased_until],
  );
  return { ...claimed, item_id: Number(claimed.item_id) };
}

export interface ReviewState {
  id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  stage: ReviewStage;
  reviewer_id: string;
  decision: string | null;
  /** The queue entry still names this review (it may have run out, but nobody took it over). */
  current: boolean;
  proposed_label: string | null;
  reasons: ReviewReason[];
  gold_answer: string | null;
  labels: string[];
}

/** A review with its queue entry and item locked, for its decision. */
export async function lockReview(db: Queryable, reviewId: string): Promise<ReviewState | null> {
  const { rows } = await db.query<ReviewState>(
    `SELECT r.id, r.project_id, r.item_id, i.external_id, r.stage, r.reviewer_id, r.decision,
            (q.review_id IS NOT DISTINCT FROM r.id AND q.stage <> 'done') AS current,
            q.proposed_label, q.reasons, i.gold_answer, p.labels
     FROM reviews r
     JOIN items i ON i.id = r.item_id
     JOIN projects p ON p.id = r.project_id
     JOIN review_queue q ON q.item_id = r.item_id
     WHERE r.id = $1
     FOR UPDATE OF r, q, i`,
    [reviewId],
  );
  const row = rows[0];
  return row ? { ...row, item_id: Number(row.item_id) } : null;
}

export async function recordDecision(db: Queryable, reviewId: string, decision: { decision: string; label: string | null; note: string | null }): Promise<void> {
  await db.query(`UPDATE reviews SET decision = $2, label = $3, note = $4, decided_at = now() WHERE id = $1`, [reviewId, decision.decision, decision.label, decision.note]);
}

/** The queue entry is done (accepted, corrected or rejected), or escalated to the experts. */
export async function moveQueueEntry(db: Queryable, itemId: number, stage: 'done' | 'escalated'): Promise<void> {
  await db.query(`UPDATE review_queue SET stage = $2, review_id = NULL, leased_until = NULL, updated_at = now() WHERE item_id = $1`, [itemId, stage]);
}

/**
 * A reject: the item's annotations so far are set aside (annotations_from) and its slots freed,
 * so other annotators label it again (the earlier ones never get it back: they annotated it).
 */
export async function returnToPool(db: Queryable, itemId: number): Promise<void> {
  await db.query('DELETE FROM item_slots WHERE item_id = $1', [itemId]);
  await db.query(
    `UPDATE items SET status = 'unlabeled', holders = 0, slots_expire_at = NULL,
            annotations_from = COALESCE((SELECT max(id) FROM annotations WHERE item_id = $1), annotations_from)
     WHERE id = $1`,
    [itemId],
  );
}

/** Changes a gold item's answer (a reviewer's correction) or, with null, makes it an ordinary item. */
export async function setGoldAnswerOf(db: Queryable, itemId: number, answer: string | null): Promise<void> {
  await db.query('UPDATE items SET gold_answer = $2 WHERE id = $1', [itemId, answer]);
}

/** The current model's probabilities for the item, from the current ranking (null when unscored). */
export async function currentModelView(db: Queryable, projectId: string, itemId: number): Promise<{ version: number | null; probs: number[] | null; labels: string[] | null }> {
  const { rows } = await db.query<{ version: number | null; probs: number[] | null; labels: string[] | null }>(
    `SELECT m.version, re.probs, m.labels
     FROM projects p
     LEFT JOIN rankings r ON r.id = p.current_ranking_id
     LEFT JOIN models m ON m.id = r.model_id
     LEFT JOIN ranking_entries re ON re.ranking_id = r.id AND re.item_id = $2
     WHERE p.id = $1`,
    [projectId, itemId],
  );
  const row = rows[0];
  return row && row.probs ? row : { version: row?.version ?? null, probs: null, labels: null };
}
