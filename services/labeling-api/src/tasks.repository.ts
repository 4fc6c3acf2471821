import type { Queryable } from '@alder/db';
import { auditEventsInsertSql } from '@alder/audit';
import { UNRANKED_STRATEGY } from '@alder/contracts';
import { countOneLabelCte } from '@alder/retraining';
import type { ResolutionRule } from './resolution';
import { singleResolutionInsertSql } from './resolution.repository';

/** A lease as leaseNextItem made it, with what the annotator is shown (tasks.mapping.ts parses it). */
export interface LeasedTask {
  task_id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  text: string;
  meta: Record<string, unknown>;
  expires_at: Date;
  /** Lease provenance (copied into task_leases): null ranking for an unranked item. */
  ranking_id: number | null;
  model_id: number | null;
  model_version: number | null;
  model_labels: string[] | null;
  strategy: string;
  /** The ranking entry the item was leased from; null for an unranked item. */
  priority: number | null;
  score: number | null;
  probs: number[] | null;
  /** Null where it is derived from the strategy and probabilities (@alder/contracts, entryRationale). */
  rationale: string | null;
  /** The expired lease whose slot this one took over, if any (it ended as expired). */
  superseded_lease: string | null;
  /** Shown with every task: the project's guidelines and label descriptions. */
  guidelines: string;
  label_descriptions: Record<string, string>;
}

/** The user a lease is made for and the key they used. */
export interface Holder {
  userId: string;
  name: string;
  keyId: string | null;
}

/**
 * Which items a user may be offered (`i` is the item): not fully labeled, a slot free (fewer
 * holders than it needs, or a lease that expired), and the user has no live lease on it and never
 * annotated or released it. The first test is on the item's own row (holders, slots_expire_at),
 * which a claim that locks the row re-checks if a concurrent claim changed it; the user's history
 * is one index probe (task_leases by item and user), a scalar subquery on purpose: Postgres turns
 * a NOT EXISTS into an anti-join, and with the statistics of a young table it hashes every lease
 * ever made on each claim; a subquery in an expression stays a per-candidate index lookup.
 */
const OFFERABLE = `i.project_id = $1 AND i.split = 'pool' AND i.status = 'unlabeled' AND i.gold_answer IS NULL
         AND (i.holders < i.required_annotations OR i.slots_expire_at <= now())
         AND (SELECT 1 FROM task_leases l WHERE l.item_id = i.id AND l.user_id = $2
                AND (l.outcome IN ('annotated', 'released') OR (l.outcome IS NULL AND l.expires_at > now())) LIMIT 1) IS NULL`;

/**
 * Brings items' holders and slots_expire_at up to date with their slot rows; call in the
 * transaction that changed the slots (after the change).
 */
export async function refreshHolders(db: Queryable, itemIds: number[]): Promise<void> {
  if (!itemIds.length) return;
  await db.query(
    `UPDATE items i SET holders = (SELECT count(*) FROM item_slots s WHERE s.item_id = i.id),
            slots_expire_at = (SELECT min(s.expires_at) FROM item_slots s WHERE s.item_id = i.id AND s.expires_at IS NOT NULL)
     WHERE i.id = ANY($1::bigint[])`,
    [itemIds],
  );
}

/**
 * Leases the next item in one statement: the highest-priority item of the project's current
 * ranking the user may be offered, else the oldest such item the ranking does not cover (items
 * ingested since it was made). Before the project has a ranking with entries it leases nothing:
 * the first tasks come from the cold start, never in file order (see whyNoTask).
 * The item row is claimed with FOR NO KEY UPDATE SKIP LOCKED, so concurrent claims of one item
 * run one at a time and others move on; the lease takes the lowest free slot of the item, or the
 * slot of a lease that expired (the user's own first: a slot row names one user). The slot key
 * and checks (migration 0010) make more than k holders, or one user twice, impossible whatever
 * this statement does. NO KEY: rows that reference an item (ranking entries being written by
 * sampling, annotations) hold FOR KEY SHARE locks on it, which a plain FOR UPDATE would treat as
 * taken and skip, emptying the queue while a ranking is built.
 * The lease and what the annotator is shown are logged in task_leases, and recorded in the audit
 * trail, by the same statement; a lease whose slot it took over is marked expired. One
 * autocommit statement: a claim holds its item's lock only while it runs.
 */

const GOLD_PICK = `gold_pick AS (
       -- At the project's gold_rate (one coin per call: an uncorrelated subquery runs once), a
       -- gold item the user never had, served like any other task.
       SELECT i.id, i.required_annotations, NULL::bigint AS ranking_id, true AS gold
       FROM items i
       WHERE i.project_id = $1 AND i.gold_answer IS NOT NULL AND i.split = 'pool'
         AND (SELECT random() < gold_rate FROM projects WHERE id = $1)
         AND (SELECT 1 FROM task_leases l WHERE l.item_id = i.id AND l.user_id = $2 LIMIT 1) IS NULL
       ORDER BY i.id
       LIMIT 1
       FOR NO KEY UPDATE OF i SKIP LOCKED
     `;
const RANKED = `ranked AS (
       -- The ranking id as a scalar subquery (an InitPlan), so the planner walks
       -- ranking_entries_open for exactly that ranking, highest priority first, past none of
       -- the items labeled since the ranking was made (migration 0013).
       SELECT i.id, i.required_annotations, re.ranking_id, false AS gold
       FROM ranking_entries re
       JOIN items i ON i.id = re.item_id
       WHERE re.ranking_id = (SELECT current_ranking_id FROM projects WHERE id = $1)
         AND NOT re.item_labeled
         AND ${OFFERABLE}
       ORDER BY re.priority DESC, re.item_id
       LIMIT 1
       FOR NO KEY UPDATE OF i SKIP LOCKED
     `;
const UNRANKED = `unranked AS (
       SELECT i.id, i.required_annotations, NULL::bigint AS ranking_id, false AS gold
       FROM items i
       WHERE ${OFFERABLE}
         -- Only once a ranking with entries exists (NULL before: no row qualifies).
         AND (SELECT r.item_count > 0 FROM projects p JOIN rankings r ON r.id = p.current_ranking_id WHERE p.id = $1)
         AND NOT EXISTS (
           SELECT 1 FROM ranking_entries re
           WHERE re.ranking_id = (SELECT current_ranking_id FROM projects WHERE id = $1) AND re.item_id = i.id
         )
       ORDER BY i.id
       LIMIT 1
       FOR NO KEY UPDATE OF i SKIP LOCKED
     `;

/**
 * The CTEs that pick the item a claim leases (ending with `picked`): from the ranking, with a
 * gold item mixed in at the project's rate; or, when the ranking has nothing for the user, the
 * oldest item it does not cover. Two statements rather than one with both: a statement that
 * carries the unranked scan costs its planning and start even when the ranked part finds an item
 * (measured: 150-200 ms against 8 ms per claim on a 100,000-item pool).
 */
function pickCtes(source: 'ranked' | 'unranked'): string {
  if (source === 'unranked') {
    return `${UNRANKED}), picked AS (
       SELECT id, required_annotations, ranking_id, gold FROM unranked LIMIT 1
     `;
  }
  return `${GOLD_PICK}), ${RANKED}), picked AS (
       SELECT id, required_annotations, ranking_id, gold FROM gold_pick
       UNION ALL
       SELECT id, required_annotations, ranking_id, gold FROM ranked WHERE NOT EXISTS (SELECT 1 FROM gold_pick)
       LIMIT 1
     `;
}

async function leaseOnce(db: Queryable, projectId: string, holder: Holder, source: 'ranked' | 'unranked'): Promise<LeasedTask | 'none' | 'lost-race'> {
  try {
    return await claimStatement(db, projectId, holder, source);
  } catch (error) {
    // The same user's two claims at once picked one item of k > 1 (their history is read from
    // the statement's snapshot): the slot key refused the second; it tries again.
    if ((error as { code?: string; constraint?: string }).code === '23505' && (error as { constraint?: string }).constraint === 'item_slots_item_id_user_id_key') return 'lost-race';
    throw error;
  }
}

async function claimStatement(db: Queryable, projectId: string, holder: Holder, source: 'ranked' | 'unranked'): Promise<LeasedTask | 'none' | 'lost-race'> {
  const { rows } = await db.query<LeasedTask>({ name: `claim-${source}`, text:
    `WITH ${pickCtes(source)}
     ), slot AS (
       SELECT p.id AS item_id, p.required_annotations, p.ranking_id, free.slot, free.previous_lease
       FROM picked p CROSS JOIN LATERAL (
         SELECT g::smallint AS slot, s.lease_id AS previous_lease
         FROM generate_series(0, p.required_annotations - 1) g
         LEFT JOIN item_slots s ON s.item_id = p.id AND s.slot = g
         WHERE s.item_id IS NULL OR s.expires_at <= now()
         ORDER BY (s.user_id IS NOT DISTINCT FROM $2) DESC, g
         LIMIT 1
       ) free
       WHERE NOT p.gold
     ), taken AS (
       INSERT INTO item_slots AS s (item_id, slot, required_annotations, lease_id, user_id, project_id, ranking_id, expires_at)
       SELECT item_id, slot, required_annotations, gen_random_uuid(), $2, $1, ranking_id,
              now() + make_interval(secs => (SELECT lease_seconds FROM projects WHERE id = $1))
       FROM slot
       ON CONFLICT (item_id, slot) DO UPDATE
         SET lease_id = EXCLUDED.lease_id, user_id = EXCLUDED.user_id, ranking_id = EXCLUDED.ranking_id, expires_at = EXCLUDED.expires_at
         WHERE s.expires_at <= now()
       RETURNING s.item_id, s.lease_id, s.expires_at, s.ranking_id
     ), touched AS (
       -- The item's own row says it has one more holder (or the same, for a slot taken over)
       -- and when its earliest lease runs out: see OFFERABLE.
       UPDATE items i SET holders = i.holders + CASE WHEN sl.previous_lease IS NULL THEN 1 ELSE 0 END,
              slots_expire_at = LEAST(t.expires_at, (SELECT min(o.expires_at) FROM item_slots o
                                                      WHERE o.item_id = i.id AND o.expires_at IS NOT NULL AND o.slot <> sl.slot))
       FROM taken t JOIN slot sl ON sl.item_id = t.item_id
       WHERE i.id = t.item_id
     ), gold_taken AS (
       -- A gold lease takes no slot (every annotator may answer a gold item once); it shows the
       -- current ranking's entry for the item when there is one, like any task.
       SELECT p.id AS item_id, gen_random_uuid() AS lease_id,
              now() + make_interval(secs => (SELECT lease_seconds FROM projects WHERE id = $1)) AS expires_at,
              (SELECT re.ranking_id FROM ranking_entries re
                WHERE re.ranking_id = (SELECT current_ranking_id FROM projects WHERE id = $1) AND re.item_id = p.id) AS ranking_id
       FROM picked p WHERE p.gold
     ), leases AS (
       SELECT item_id, lease_id, expires_at, ranking_id FROM taken
       UNION ALL
       SELECT item_id, lease_id, expires_at, ranking_id FROM gold_taken
     ), superseded AS (
       UPDATE task_leases SET outcome = 'expired', ended_at = now()
       WHERE id = (SELECT previous_lease FROM slot) AND outcome IS NULL AND EXISTS (SELECT 1 FROM taken)
     ), shown AS (
       SELECT t.lease_id AS task_id, i.project_id, i.id AS item_id, i.external_id, i.text, i.meta,
              t.expires_at, t.ranking_id,
              r.model_id, m.version AS model_version, m.labels AS model_labels,
              COALESCE(r.strategy, $5) AS strategy, re.priority, re.score, re.probs, re.rationale,
              pr.guidelines, pr.label_descriptions
       FROM leases t
       JOIN items i ON i.id = t.item_id
       JOIN projects pr ON pr.id = i.project_id
       LEFT JOIN rankings r ON r.id = t.ranking_id
       LEFT JOIN models m ON m.id = r.model_id
       LEFT JOIN ranking_entries re ON re.ranking_id = t.ranking_id AND re.item_id = t.item_id
     ), logged AS (
       INSERT INTO task_leases (id, project_id, item_id, annotator, user_id, api_key_id, ranking_id, model_id, selection_score, selection_strategy,
                                selection_probs, expires_at)
       SELECT task_id, project_id, item_id, $3, $2, $4, ranking_id, model_id, score, strategy, probs, expires_at FROM shown
     ), lease_events AS (
       -- The audit trail's record of the lease (and of the expired lease it took over), written by
       -- this statement: what the annotator is shown, as stored (the API derives the rationale of
       -- an entry stored without one from the strategy and probabilities).
       SELECT project_id, 'lease.created' AS kind, $2::uuid AS actor_user_id, $4::uuid AS actor_key_id, 'lease' AS subject_type,
              task_id::text AS subject_id, item_id, external_id AS item_external_id, NULL::jsonb AS before,
              jsonb_build_object('task_id', task_id, 'user_id', $2::uuid, 'expires_at', expires_at,
                'selection', jsonb_build_object('ranking_id', ranking_id, 'model_version', model_version, 'strategy', strategy,
                  'score', score, 'probabilities', CASE WHEN probs IS NULL THEN NULL ELSE (SELECT jsonb_object_agg(l, p) FROM unnest(model_labels, probs) AS u(l, p)) END,
                  'rationale', rationale)) AS after
       FROM shown
       UNION ALL
       SELECT sh.project_id, 'lease.expired', $2::uuid, $4::uuid, 'lease', sl.previous_lease::text, sh.item_id, sh.external_id, NULL::jsonb,
              jsonb_build_object('taken_over_by', sh.task_id)
       FROM shown sh CROSS JOIN slot sl WHERE sl.previous_lease IS NOT NULL
     ), audited AS (
       ${auditEventsInsertSql('lease_events')}
     )
     -- One row when an item was picked: the task, or nulls when its slot went to a claim that
     -- committed after this statement's snapshot was taken (see leaseNextItem).
     SELECT s.task_id, s.project_id, s.item_id, s.external_id, s.text, s.meta, s.expires_at, s.ranking_id, s.model_id, s.model_version,
            s.model_labels, s.strategy, s.priority, s.score, s.probs, s.rationale, s.guidelines, s.label_descriptions,
            (SELECT previous_lease FROM slot WHERE EXISTS (SELECT 1 FROM taken)) AS superseded_lease
     FROM picked LEFT JOIN shown s ON true`,
    values: [projectId, holder.userId, holder.name, holder.keyId, UNRANKED_STRATEGY] });
  const row = rows[0];
  if (!row) return 'none';
  return row.task_id === null ? 'lost-race' : row;
}

/** How many times a claim that lost its item to a concurrent one is tried again. */
const CLAIM_ATTEMPTS = 8;

/**
 * Leases the next item (leaseOnce). A claim that locks an item a concurrent claim just took
 * re-checks the item's row (holders) and moves on within the statement; the rare claim that still
 * loses its slot (an expired slot taken over meanwhile, or the same user twice at once) reports
 * it and is run again with a new snapshot, which sees the other claim. Null when no item is free.
 */
export async function leaseNextItem(db: Queryable, projectId: string, holder: Holder): Promise<LeasedTask | null> {
  for (const source of ['ranked', 'unranked'] as const) {
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
      const outcome = await leaseOnce(db, projectId, holder, source);
      if (outcome === 'none') break;
      if (outcome !== 'lost-race') return outcome;
    }
  }
  return null;
}

/**
 * Why leaseNextItem found nothing: no such project; a ranking is pending (free pool items, but
 * no ranking, or only an empty one published before the items arrived: no order to serve them
 * in yet, and ingest has asked sampling for one); or no item is free.
 */
export async function whyNoTask(db: Queryable, projectId: string): Promise<'no-project' | 'ranking-pending' | 'none-free'> {
  const { rows } = await db.query<{ pending: boolean }>(
    `SELECT COALESCE(r.item_count, 0) = 0 AND EXISTS (
              SELECT 1 FROM items i
              WHERE i.project_id = p.id AND i.split = 'pool' AND i.status = 'unlabeled'
            ) AS pending
     FROM projects p LEFT JOIN rankings r ON r.id = p.current_ranking_id
     WHERE p.id = $1`,
    [projectId],
  );
  if (!rows.length) return 'no-project';
  return rows[0]!.pending ? 'ranking-pending' : 'none-free';
}

export interface LeaseState {
  id: string;
  project_id: string;
  item_id: number;
  external_id: string;
  annotator: string;
  user_id: string | null;
  outcome: 'annotated' | 'released' | 'expired' | null;
  /** The lease still holds its slot and has not expired. */
  active: boolean;
  /** The lease still holds its slot (expired or not): nobody took it over. */
  holds_slot: boolean;
  /** The lease's own expiry has passed. */
  expired: boolean;
  required_annotations: number;
  lease_seconds: number;
  labels: string[];
  /** Lease provenance as copied when the item was leased (@alder/contracts, leaseProvenanceSchema). */
  ranking_id: number | null;
  model_id: number | null;
  model_version: number | null;
  selection_score: number | null;
  selection_strategy: string;
  selection_probs: number[] | null;
  model_labels: string[] | null;
  /** The item's known answer when it is a gold item (its leases take no slot). */
  gold_answer: string | null;
  /** The project's rationale rule (policy.rationale_required) and when an item resolves. */
  rationale_required: 'never' | 'always' | 'labels';
  rationale_labels: string[];
  min_agreement: number;
  review_model_disagreement: number | null;
  review_low_confidence: number | null;
  review_late: boolean;
  /** The project's outbound webhook event mask (@alder/queues): events nobody listens for cost no statement. */
  webhook_events: number;
}

/** A lease with its item locked (FOR NO KEY UPDATE), so submit, release and heartbeat see and change it alone. */
export async function lockLease(db: Queryable, taskId: string): Promise<LeaseState | null> {
  const { rows } = await db.query<LeaseState>({ name: 'lease-lock', text:
    `SELECT l.id, l.project_id, l.item_id, i.external_id, l.annotator, l.user_id, l.outcome,
            CASE WHEN i.gold_answer IS NOT NULL THEN l.outcome IS NULL AND l.expires_at > now()
                 ELSE s.lease_id IS NOT NULL AND s.expires_at > now() END AS active,
            CASE WHEN i.gold_answer IS NOT NULL THEN l.outcome IS NULL ELSE s.lease_id IS NOT NULL END AS holds_slot,
            (l.expires_at <= now()) AS expired,
            i.required_annotations, p.lease_seconds,
            p.labels, l.ranking_id, l.model_id, m.version AS model_version, l.selection_score, l.selection_strategy,
            l.selection_probs, m.labels AS model_labels, i.gold_answer, p.rationale_required, p.rationale_labels,
            p.min_agreement, p.review_model_disagreement, p.review_low_confidence, p.review_late, p.webhook_events
     FROM task_leases l
     JOIN items i ON i.id = l.item_id
     JOIN projects p ON p.id = l.project_id
     LEFT JOIN item_slots s ON s.lease_id = l.id
     LEFT JOIN models m ON m.id = l.model_id
     WHERE l.id = $1
     FOR NO KEY UPDATE OF l, i`,
    values: [taskId] });
  return rows[0] ?? null;
}

/**
 * Makes the lease's slot an annotation's for good. A lease that lost its slot (it expired and
 * someone took the slot over) takes another free one, if the item still needs an annotation and
 * the user holds none of its slots. False when the item has no room: the submission would break
 * the overlap rule. Call with the lease locked (lockLease).
 */
export async function holdSlotForAnnotation(db: Queryable, lease: LeaseState): Promise<{ held: boolean; supersededLease: string | null }> {
  // A gold item has no slots: each annotator may answer it once, late or not.
  if (lease.gold_answer !== null) return { held: true, supersededLease: null };
  // The lease's own slot becomes the annotation's in insertAnnotation's statement.
  if (lease.holds_slot) return { held: true, supersededLease: null };
  const { rows } = await db.query<{ previous_lease: string | null }>(
    `WITH free AS (
       SELECT g::smallint AS slot, s.lease_id AS previous_lease
       FROM generate_series(0, $3::int - 1) g
       LEFT JOIN item_slots s ON s.item_id = $2 AND s.slot = g
       WHERE (s.item_id IS NULL OR s.expires_at <= now())
         AND NOT EXISTS (SELECT 1 FROM item_slots o WHERE o.item_id = $2 AND o.user_id = $4 AND (o.expires_at IS NULL OR o.expires_at > now()))
       ORDER BY (s.user_id IS NOT DISTINCT FROM $4) DESC, g
       LIMIT 1
     ), taken AS (
       INSERT INTO item_slots AS s (item_id, slot, required_annotations, lease_id, user_id, project_id, expires_at)
       SELECT $2, slot, $3, $1, $4, $5, NULL FROM free
       ON CONFLICT (item_id, slot) DO UPDATE SET lease_id = EXCLUDED.lease_id, user_id = EXCLUDED.user_id, ranking_id = NULL, expires_at = NULL
         WHERE s.expires_at <= now()
       RETURNING 1
     )
     SELECT previous_lease FROM free WHERE EXISTS (SELECT 1 FROM taken)`,
    [lease.id, lease.item_id, lease.required_annotations, lease.user_id, lease.project_id],
  );
  if (!rows.length) return { held: false, supersededLease: null };
  const previous = rows[0]!.previous_lease;
  if (previous) await db.query(`UPDATE task_leases SET outcome = 'expired', ended_at = now() WHERE id = $1 AND outcome IS NULL`, [previous]);
  await refreshHolders(db, [lease.item_id]);
  return { held: true, supersededLease: previous };
}

export interface NewAnnotation {
  lease: LeaseState;
  label: string;
  rationale: string | null;
  timeSpentMs: number | null;
  keyId: string | null;
  late: boolean;
  /**
   * The rest of the submit, in the same statement, where the annotation alone decides its item
   * (one annotator needed, no gold answer, nothing for review): the rule it resolves the item by (with
   * its label), and the annotation.created event's `after` less `annotation_id` and `resolution`, which the statement
   * fills in. The label is counted for the retrain rule too. Without it the caller writes them.
   */
  record?: { rule: ResolutionRule; eventAfter: Record<string, unknown> };
}

export interface InsertedAnnotation {
  id: number;
  created_at: Date;
  /** This annotation was the item's last one. */
  completed: boolean;
  /** With `record`: the resolution written, null when the item was not completed by it. */
  resolution_id: number | null;
  /** With `record`: the retrain rule's decision (applyLabelCount). */
  train_due: boolean;
}

const ANNOTATION_INSERT = `INSERT INTO annotations (project_id, item_id, label, rationale, time_spent_ms, annotator, user_id, source, lease_id,
                              api_key_id, model_id, selection_score, selection_strategy, late)`;

// The item's row after the annotation: holders, earliest lease expiry, labeled once it has all
// its annotations. The subqueries read the item's slots as they were before the statement, so
// the lease's own slot counts as annotated by its id.
const ANNOTATION_CTES = `ann AS (
       ${ANNOTATION_INSERT} VALUES ($1, $2, $3, $4, $5, $6, $7, 'annotator', $8, $9, $10, $11, $12, $13)
       RETURNING id, created_at
     ), ended AS (
       UPDATE task_leases SET ended_at = now(), outcome = 'annotated' WHERE id = $8
     ), held AS (
       UPDATE item_slots SET expires_at = NULL WHERE lease_id = $8
     ), was AS (
       SELECT status FROM items WHERE id = $2
     ), item AS (
       UPDATE items i SET
         holders = (SELECT count(*) FROM item_slots s WHERE s.item_id = i.id),
         slots_expire_at = (SELECT min(s.expires_at) FROM item_slots s WHERE s.item_id = i.id AND s.expires_at IS NOT NULL AND s.lease_id <> $8),
         status = CASE WHEN i.gold_answer IS NULL
                        AND (SELECT count(*) FROM item_slots s WHERE s.item_id = i.id AND (s.expires_at IS NULL OR s.lease_id = $8)) >= i.required_annotations
                       THEN 'labeled' ELSE i.status END
       WHERE i.id = $2
       RETURNING i.status
     )`;
const COMPLETED = `(SELECT status FROM item) = 'labeled' AND (SELECT status FROM was) <> 'labeled'`;

const ANNOTATION_SQL = `WITH ${ANNOTATION_CTES}
     SELECT ann.id, ann.created_at, ${COMPLETED} AS completed, NULL::bigint AS resolution_id, false AS train_due FROM ann`;

// The whole submit of an annotation that decides its item alone: with the resolution, the audit
// event (the actor is the lease's holder: the caller checked) and the label counted.
const ANNOTATION_RECORDED_SQL = `WITH ${ANNOTATION_CTES}, resolved AS (
       ${singleResolutionInsertSql({ project: '$1', item: '$2', label: '$3', rule: '$14', annotationId: 'ann.id', from: 'ann', when: COMPLETED })}
     ), annotation_event AS (
       SELECT $1::uuid AS project_id, 'annotation.created'::text AS kind, $7::uuid AS actor_user_id, $9::uuid AS actor_key_id,
              'annotation'::text AS subject_type, ann.id::text AS subject_id, $2::bigint AS item_id, $15::text AS item_external_id,
              NULL::jsonb AS before,
              $16::jsonb || jsonb_build_object('annotation_id', ann.id)
                || COALESCE((SELECT jsonb_build_object('resolution', jsonb_build_object('resolution_id', r.id, 'label', $3::text, 'rule', $14::text)) FROM resolved r), '{}'::jsonb)
                AS after
       FROM ann
     ), audited AS (
       ${auditEventsInsertSql('annotation_event')}
     ), ${countOneLabelCte('$1')}
     SELECT ann.id, ann.created_at, ${COMPLETED} AS completed, (SELECT id FROM resolved) AS resolution_id,
            coalesce((SELECT train_due FROM label_counter), false) AS train_due
     FROM ann`;

/**
 * Stores the annotation with the lease's provenance and ends the lease; the item is labeled
 * once it has as many annotations as it needs (`completed`: this one was the last). Call after
 * holdSlotForAnnotation. One statement (the annotator's hot path): the annotation, the lease
 * ended, its slot held for good, the item's row brought up to date, and with `record` the
 * resolution, the audit event and the label count.
 */
export async function insertAnnotation(db: Queryable, input: NewAnnotation): Promise<InsertedAnnotation> {
  const { lease } = input;
  const values: unknown[] = [
    lease.project_id,
    lease.item_id,
    input.label,
    input.rationale,
    input.timeSpentMs,
    lease.annotator,
    lease.user_id,
    lease.id,
    input.keyId,
    lease.model_id,
    lease.selection_score,
    lease.selection_strategy,
    input.late,
  ];
  const { rows } = input.record
    ? await db.query<InsertedAnnotation>({
        name: 'annotation-recorded',
        text: ANNOTATION_RECORDED_SQL,
        values: [...values, input.record.rule, lease.external_id, JSON.stringify(input.record.eventAfter)],
      })
    : await db.query<InsertedAnnotation>({ name: 'annotation', text: ANNOTATION_SQL, values });
  const row = rows[0]!;
  return { ...row, completed: row.completed === true, resolution_id: row.resolution_id === null ? null : Number(row.resolution_id) };
}

/** An annotator's annotation as stored; the provenance fields are null where nothing was shown. */
export interface AnnotationInput {
  projectId: string;
  itemId: number;
  label: string;
  annotator: string;
  userId?: string | null;
  rationale?: string | null;
  timeSpentMs?: number | null;
  leaseId?: string | null;
  apiKeyId?: string | null;
  modelId?: number | null;
  selectionScore?: number | null;
  selectionStrategy?: string | null;
  late?: boolean;
}

/**
 * Appends annotator annotations, ids in input order: the test fixtures' write of
 * `source = 'annotator'` rows (with markLabeled). Submit writes its one row in insertAnnotation's
 * statement; both use ANNOTATION_INSERT, so the two cannot drift. (Imports are written by ingest, in the statement that
 * inserts their items.) Counting the labels is the caller's: `recordLabels`.
 */
export async function appendAnnotations(db: Queryable, rows: AnnotationInput[]): Promise<{ id: number; created_at: Date }[]> {
  if (!rows.length) return [];
  const column = <T>(pick: (row: AnnotationInput) => T | undefined) => rows.map((row) => pick(row) ?? null);
  const { rows: stored } = await db.query<{ id: number; created_at: Date }>(
    `${ANNOTATION_INSERT}
     SELECT p, i, l, r, t, a, u, 'annotator', le, k, m, sc, st, coalesce(lt, false)
     FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[], $5::integer[], $6::text[], $7::uuid[], $8::uuid[], $9::uuid[],
                 $10::bigint[], $11::real[], $12::text[], $13::boolean[]) WITH ORDINALITY AS u(p, i, l, r, t, a, u, le, k, m, sc, st, lt, n)
     ORDER BY n
     RETURNING id, created_at`,
    [
      column((r) => r.projectId),
      column((r) => r.itemId),
      column((r) => r.label),
      column((r) => r.rationale),
      column((r) => r.timeSpentMs),
      column((r) => r.annotator),
      column((r) => r.userId),
      column((r) => r.leaseId),
      column((r) => r.apiKeyId),
      column((r) => r.modelId),
      column((r) => r.selectionScore),
      column((r) => r.selectionStrategy),
      column((r) => r.late),
    ],
  );
  return stored;
}

/** Marks items labeled outright (seeded labels, without leases or slots: the fixtures' path). */
export async function markLabeled(db: Queryable, itemIds: number[]): Promise<void> {
  await db.query(`UPDATE items SET status = 'labeled' WHERE id = ANY($1::bigint[])`, [itemIds]);
}

/** Ends a lease by request, with the reason; frees its slot if it still holds it. */
export async function releaseLease(db: Queryable, lease: LeaseState, reason: 'skip' | 'unsure' | 'irrelevant'): Promise<void> {
  await db.query(`UPDATE task_leases SET ended_at = now(), outcome = 'released', release_reason = $2 WHERE id = $1`, [lease.id, reason]);
  if (lease.holds_slot) {
    await db.query('DELETE FROM item_slots WHERE lease_id = $1', [lease.id]);
    await refreshHolders(db, [lease.item_id]);
  }
}

/** Moves a lease's expiry to lease_seconds from now (its slot's too); call with the lease held. */
export async function extendLease(db: Queryable, lease: LeaseState): Promise<Date> {
  const { rows } = await db.query<{ expires_at: Date }>(
    `UPDATE task_leases SET expires_at = now() + make_interval(secs => $2) WHERE id = $1 RETURNING expires_at`,
    [lease.id, lease.lease_seconds],
  );
  const expiresAt = rows[0]!.expires_at;
  const slot = await db.query('UPDATE item_slots SET expires_at = $2 WHERE lease_id = $1', [lease.id, expiresAt]);
  if (slot.rowCount) await refreshHolders(db, [lease.item_id]);
  return expiresAt;
}

/**
 * Ends a user's live leases in a project (they were removed from it): the slots free at once for
 * others; the leases are recorded as expired, so the user could be offered the items again if
 * they come back. Returns the ended task ids.
 */
export async function endLeasesOf(db: Queryable, projectId: string, userId: string): Promise<{ lease_id: string; item_id: number; external_id: string }[]> {
  const { rows } = await db.query<{ lease_id: string; item_id: number; external_id: string }>(
    `WITH ended AS (
       DELETE FROM item_slots WHERE project_id = $1 AND user_id = $2 AND expires_at IS NOT NULL RETURNING lease_id, item_id
     )
     SELECT e.lease_id, e.item_id, i.external_id FROM ended e JOIN items i ON i.id = e.item_id ORDER BY e.item_id`,
    [projectId, userId],
  );
  const ids = rows.map((r) => r.lease_id);
  if (ids.length) await db.query(`UPDATE task_leases SET outcome = 'expired', ended_at = now() WHERE id = ANY($1::uuid[]) AND outcome IS NULL`, [ids]);
  await refreshHolders(db, [...new Set(rows.map((r) => r.item_id))]);
  return rows;
}

/**
 * Deletes up to `limit` leases that ended before `before` (released, or expired unanswered) and
 * that no annotation came from (retention). A submitted lease stays with its annotation: it is the
 * record of what the annotator was shown. A deleted lease's task id answers 404 instead of 409.
 */
export async function deleteEndedLeases(db: Queryable, before: Date, limit: number): Promise<number> {
  // SKIP LOCKED: a lease a late submit or release holds is left for the next sweep.
  const { rowCount } = await db.query(
    `DELETE FROM task_leases WHERE id IN (
       SELECT l.id FROM task_leases l
       WHERE l.outcome IS DISTINCT FROM 'annotated' AND coalesce(l.ended_at, l.expires_at) < $1
         AND NOT EXISTS (SELECT 1 FROM annotations a WHERE a.lease_id = l.id)
         -- A released lease is the record that its user skipped the item (never offered again).
         AND l.outcome IS DISTINCT FROM 'released'
         AND NOT EXISTS (SELECT 1 FROM item_slots s WHERE s.lease_id = l.id)
       ORDER BY coalesce(l.ended_at, l.expires_at)
       LIMIT $2
       FOR UPDATE OF l SKIP LOCKED
     )`,
    [before, limit],
  );
  return rowCount ?? 0;
}
