import type { Queryable } from '@alder/db';

/**
 * Who an annotation or lease is by: the user's id, or, for legacy rows written before users
 * existed (user_id NULL), the `annotator` text they were recorded under.
 */
const WHO = (alias: string) => `coalesce(${alias}.user_id::text, ${alias}.annotator)`;

/** One annotator's labels for the agreement report, in annotation order. */
export interface AgreementAnnotator {
  /** The user id (or a legacy row's annotator text). */
  who: string;
  itemIds: number[];
  /** Index of each label into `labels`. */
  labelIndexes: number[];
}

export interface AgreementInput {
  labels: string[];
  annotators: AgreementAnnotator[];
}

interface AgreementRow {
  labels: string[];
  who: string | null;
  // int8[] comes back as strings (pg parses only a scalar int8 to a number).
  items: string[] | null;
  label_indexes: number[] | null;
}

/**
 * What the agreement report rests on, in one statement; null when there is no project. The
 * project's annotator annotations (imports left out) that still count: not set aside by a
 * review's reject (`id <= items.annotations_from`), on pool items that are not gold items, with a
 * label the project still has. One row per annotator, whose item ids and label indexes come as
 * two arrays in annotation id order, so a project of a million annotations is a few rows of
 * integer arrays rather than a million rows of objects.
 */
export async function readAgreementInput(db: Queryable, projectId: string): Promise<AgreementInput | null> {
  const { rows } = await db.query<AgreementRow>(
    `SELECT p.labels, g.who, g.items, g.label_indexes
     FROM projects p
     LEFT JOIN LATERAL (
       SELECT ${WHO('a')} AS who,
              array_agg(a.item_id ORDER BY a.id) AS items,
              array_agg(array_position(p.labels, a.label) - 1 ORDER BY a.id) AS label_indexes
       FROM annotations a
       JOIN items i ON i.id = a.item_id
       WHERE a.project_id = p.id AND a.source = 'annotator' AND a.id > i.annotations_from
         AND i.split = 'pool' AND i.gold_answer IS NULL AND a.label = ANY (p.labels)
       GROUP BY 1
     ) g ON true
     WHERE p.id = $1`,
    [projectId],
  );
  const first = rows[0];
  if (!first) return null;
  const annotators = rows
    .filter((r) => r.who !== null)
    .map((r) => ({ who: r.who!, itemIds: r.items!.map(Number), labelIndexes: r.label_indexes! }));
  return { labels: first.labels, annotators };
}

export interface AnnotatorStatsRow {
  user_id: string;
  name: string;
  labels: number;
  median_ms_per_label: number | null;
  resolved_items: number;
  resolved_agreed: number;
  resolved_share: number | null;
  gold_answered: number;
  gold_correct: number;
  gold_accuracy: number | null;
  skips: number;
  late: number;
}

/**
 * Per person with an annotator annotation in the project (legacy rows without a user count under
 * their annotator text), ordered by name:
 * - labels, median_ms_per_label, late: over their annotations of non-gold items, rejected ones
 *   included (the work was done); the median of time_spent_ms ignores the NULLs;
 * - resolved: the non-gold items they labeled (their latest label of each) that have a
 *   resolution now, and how many of those their label equals the item's latest resolved label;
 * - gold: their answers on gold items, and how many equal the gold answer;
 * - skips: their leases in the project that ended released (any reason).
 */
export async function listAnnotatorStats(db: Queryable, projectId: string): Promise<AnnotatorStatsRow[]> {
  const { rows } = await db.query<AnnotatorStatsRow>(
    `WITH mine AS (
       SELECT a.id, a.user_id, CASE WHEN a.user_id IS NULL THEN a.annotator END AS legacy,
              a.item_id, a.label, a.time_spent_ms, a.late, i.gold_answer
       FROM annotations a
       JOIN items i ON i.id = a.item_id
       WHERE a.project_id = $1 AND a.source = 'annotator'
     ),
     per AS (
       SELECT user_id, legacy,
              count(*) FILTER (WHERE gold_answer IS NULL)::int AS labels,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY time_spent_ms) FILTER (WHERE gold_answer IS NULL) AS median_ms_per_label,
              count(*) FILTER (WHERE gold_answer IS NULL AND late)::int AS late,
              count(*) FILTER (WHERE gold_answer IS NOT NULL)::int AS gold_answered,
              count(*) FILTER (WHERE gold_answer IS NOT NULL AND label = gold_answer)::int AS gold_correct
       FROM mine
       GROUP BY user_id, legacy
     ),
     latest AS (
       SELECT DISTINCT ON (user_id, legacy, item_id) user_id, legacy, item_id, label
       FROM mine
       WHERE gold_answer IS NULL
       ORDER BY user_id, legacy, item_id, id DESC
     ),
     resolved AS (
       SELECT l.user_id, l.legacy, count(*)::int AS items, count(*) FILTER (WHERE r.label = l.label)::int AS agreed
       FROM latest l
       JOIN LATERAL (
         SELECT label FROM item_resolutions r WHERE r.item_id = l.item_id ORDER BY r.id DESC LIMIT 1
       ) r ON true
       GROUP BY l.user_id, l.legacy
     ),
     skips AS (
       SELECT user_id, CASE WHEN user_id IS NULL THEN annotator END AS legacy, count(*)::int AS skips
       FROM task_leases
       WHERE project_id = $1 AND outcome = 'released'
       GROUP BY 1, 2
     )
     SELECT coalesce(per.user_id::text, per.legacy) AS user_id,
            coalesce(u.name, per.legacy, '') AS name,
            per.labels, per.median_ms_per_label,
            coalesce(r.items, 0) AS resolved_items, coalesce(r.agreed, 0) AS resolved_agreed,
            r.agreed::float8 / nullif(r.items, 0) AS resolved_share,
            per.gold_answered, per.gold_correct,
            per.gold_correct::float8 / nullif(per.gold_answered, 0) AS gold_accuracy,
            coalesce(s.skips, 0) AS skips, per.late
     FROM per
     LEFT JOIN users u ON u.id = per.user_id
     LEFT JOIN resolved r ON r.user_id IS NOT DISTINCT FROM per.user_id AND r.legacy IS NOT DISTINCT FROM per.legacy
     LEFT JOIN skips s ON s.user_id IS NOT DISTINCT FROM per.user_id AND s.legacy IS NOT DISTINCT FROM per.legacy
     ORDER BY name, user_id`,
    [projectId],
  );
  return rows;
}
