import { ADVISORY_LOCKS, type Pool, type Queryable } from '@alder/db';

// The one module with SQL on audit_events, audit_chain, audit_heads and audit_sealer.

/** Who did it: a user, an API key, both, or neither (the system: the trainer, a sweeper). */
export interface AuditActor {
  userId: string | null;
  keyId: string | null;
}

/** One event to append. `before`/`after` are stored as jsonb; `undefined` and `null` are SQL NULL. */
export interface AuditEventInput {
  projectId: string;
  /** '<noun>.<verb>', lowercase: 'annotation.created', 'lease.created', 'member.added'. */
  kind: string;
  actor: AuditActor;
  subject: { type: string; id: string };
  item?: { id: number; externalId: string } | null;
  before?: unknown;
  after?: unknown;
}

/** An event as a page returns it. */
export interface AuditEvent {
  id: number;
  /** Its place in the project's chain; null while it waits for the sealer (a second or so). */
  seq: number | null;
  kind: string;
  actor_user_id: string | null;
  actor_key_id: string | null;
  subject_type: string;
  subject_id: string;
  item_external_id: string | null;
  before: unknown;
  after: unknown;
  /** UTC with microseconds, the text that is hashed: '2025-01-31T09:15:02.123456Z'. */
  created_at: string;
  /** The link's hash, hex; null while the event waits for the sealer. */
  hash: string | null;
}

/**
 * Why a chain is broken, at its first bad link in seq order:
 * - `seq`: the link's seq is not the previous one's + 1 (the first's is not 1): a link is missing or moved;
 * - `prev_hash`: its prev_hash is not the previous link's hash;
 * - `missing_event`: the event it links is gone (then `id` is that event's id);
 * - `hash`: its hash is not sha256(prev_hash || content): the event (or the link) was altered;
 * - `head_hash`: it is the head's link but its hash is not the head's: the last link was rewritten;
 * - `missing_tail`: the head is past the last link (then `id` is null, `position` is events + 1):
 *   the last link(s) were deleted;
 * - `unchained`: an event the sealer has passed is in no link (written behind the API's back, or
 *   its link was removed with the chain rewritten); `position` is events + 1.
 */
export type AuditChainBreak = 'seq' | 'prev_hash' | 'missing_event' | 'hash' | 'head_hash' | 'missing_tail' | 'unchained';

export interface AuditChainVerdict {
  ok: boolean;
  /** The project's links counted. */
  events: number;
  /** Events written but not yet linked (their transaction or an older one was still running). */
  pending: number;
  /** `position`: 1-based, in seq order. */
  first_bad: { id: number | null; position: number; reason: AuditChainBreak } | null;
}

export interface AuditPageOptions {
  /** Keyset: only events with an id greater than this (the last id of the previous page). */
  after?: number;
  /** 1 to MAX_AUDIT_PAGE. */
  limit: number;
}

export const MAX_AUDIT_PAGE = 1000;

const BREAKS: readonly AuditChainBreak[] = ['seq', 'prev_hash', 'missing_event', 'hash', 'head_hash'];
const ZERO_HASH = `'\\x${'00'.repeat(32)}'::bytea`;

const INPUT_COLUMNS = `kind text, actor_user_id uuid, actor_key_id uuid, subject_type text, subject_id text,
  item_id bigint, item_external_id text, before jsonb, after jsonb`;

function assertTransaction(tx: Queryable): void {
  const status = (tx as { getTransactionStatus?: () => string | null }).getTransactionStatus?.();
  if (status !== 'T') {
    throw new Error('appendAuditEvents must be called with a client inside a transaction (withTransaction), not a pool or an idle client');
  }
}

function assertPage(options: AuditPageOptions): { after: number; limit: number } {
  const after = options.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) throw new RangeError(`after must be an event id (an integer >= 0), got ${after}`);
  if (!Number.isSafeInteger(options.limit) || options.limit < 1 || options.limit > MAX_AUDIT_PAGE) {
    throw new RangeError(`limit must be an integer from 1 to ${MAX_AUDIT_PAGE}, got ${options.limit}`);
  }
  return { after, limit: options.limit };
}

/**
 * Appends events in the transaction of the change they record (one INSERT, no lock) and returns
 * their ids in input order. Refuses a pool or a client outside a transaction: an event must commit
 * or roll back with its change. The sealer links them into their projects' chains once the
 * transaction has ended (sealAuditEvents).
 */
export async function appendAuditEvents(tx: Queryable, events: AuditEventInput[]): Promise<{ id: number }[]> {
  if (events.length === 0) return [];
  assertTransaction(tx);
  const rows = events.map((event) => ({
    project_id: event.projectId,
    kind: event.kind,
    actor_user_id: event.actor.userId,
    actor_key_id: event.actor.keyId,
    subject_type: event.subject.type,
    subject_id: event.subject.id,
    item_id: event.item?.id ?? null,
    item_external_id: event.item?.externalId ?? null,
    before: event.before ?? null,
    after: event.after ?? null,
  }));
  const { rows: inserted } = await tx.query<{ id: number }>(
    `INSERT INTO audit_events (project_id, kind, actor_user_id, actor_key_id, subject_type, subject_id, item_id, item_external_id, before, after)
     SELECT e.project_id, e.kind, e.actor_user_id, e.actor_key_id, e.subject_type, e.subject_id, e.item_id, e.item_external_id, e.before, e.after
     FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS a(value, n)
     CROSS JOIN LATERAL jsonb_to_record(a.value) AS e(project_id uuid, ${INPUT_COLUMNS})
     ORDER BY a.n
     RETURNING id`,
    [JSON.stringify(rows)],
  );
  return inserted.map((r) => ({ id: Number(r.id) }));
}

/**
 * The INSERT of audit events from a row source, for a writer that records its change and the
 * event in one statement (a data-modifying CTE of its own; the annotator's claim does, so a claim
 * stays one autocommit statement). `source` names a CTE or subquery with the columns project_id,
 * kind, actor_user_id, actor_key_id, subject_type, subject_id, item_id, item_external_id, before,
 * after. The statement's transaction is the event's: the sealer links it once that has ended.
 */
export function auditEventsInsertSql(source: string): string {
  return `INSERT INTO audit_events (project_id, kind, actor_user_id, actor_key_id, subject_type, subject_id, item_id, item_external_id, before, after)
          SELECT project_id, kind, actor_user_id, actor_key_id, subject_type, subject_id, item_id, item_external_id, before, after FROM ${source}`;
}

// Links one project's events (ids in chain order, $2) after its head ($3 seq, $4 hash): a
// recursive CTE, each link's hash the next one's prev_hash; then moves the head.
const LINK_SQL = `
WITH RECURSIVE chain AS (
  SELECT 0::bigint AS n, $3::bigint AS seq, NULL::bigint AS event_id, NULL::bytea AS prev_hash, $4::bytea AS hash
  UNION ALL
  -- The next event by its position in the array (one index lookup a step, not a join with them all).
  SELECT c.n + 1, c.seq + 1, ev.id, c.hash,
    audit_event_hash(c.hash, audit_event_content(ev.project_id, c.seq + 1, ev.kind, ev.actor_user_id, ev.actor_key_id,
      ev.subject_type, ev.subject_id, ev.item_id, ev.item_external_id, ev.before, ev.after, ev.created_at))
  FROM chain c JOIN audit_events ev ON ev.id = ($2::bigint[])[c.n + 1]
), linked AS (
  INSERT INTO audit_chain (project_id, seq, event_id, prev_hash, hash)
  SELECT $1, seq, event_id, prev_hash, hash FROM chain WHERE n > 0
  RETURNING seq, hash
)
INSERT INTO audit_heads AS h (project_id, seq, hash)
SELECT $1, seq, hash FROM linked ORDER BY seq DESC LIMIT 1
ON CONFLICT (project_id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash
RETURNING h.seq`;

/**
 * The oldest transaction of this database still running (one with an id, so one that may have
 * written an event), else the next transaction id: every event with a txid below it is committed
 * or gone. Only this database's transactions count (pg_stat_activity.backend_xid, matched to the
 * snapshot's 64-bit ids by their low 32 bits): a long transaction in another database of the
 * cluster, or a test database next door, must not hold the chain back. (The sealer's role must
 * see the other sessions' backend_xid: the same role as the services, or pg_read_all_stats.)
 */
const HORIZON_SQL = `coalesce(
  (SELECT min(x) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
    WHERE (x::text::bigint % 4294967296) IN (
      SELECT backend_xid::text::bigint FROM pg_stat_activity
      WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid())),
  pg_snapshot_xmax(pg_current_snapshot()))`;

/**
 * Links every event whose transaction has ended into its project's chain, in (txid, id) order,
 * and returns how many it linked. One sealer at a time (an advisory lock; a second caller returns
 * 0 at once). Safe to call from anywhere at any time: the horizon is the oldest running
 * transaction, so an event is linked only once no transaction that started before it is running,
 * and every event is linked exactly once.
 */
export async function sealAuditEvents(pool: Pool, options: { batch?: number } = {}): Promise<number> {
  const batch = options.batch ?? 10_000;
  const client = await pool.connect();
  let linked = 0;
  try {
    await client.query('BEGIN');
    const locked = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [ADVISORY_LOCKS.auditSealer]);
    if (!locked.rows[0]!.ok) {
      await client.query('ROLLBACK');
      return 0;
    }
    const { rows: state } = await client.query<{ from: string; to: string }>(
      `SELECT horizon::text AS from, (${HORIZON_SQL})::text AS to FROM audit_sealer WHERE id = 1 FOR UPDATE`,
    );
    const { from, to } = state[0]!;
    let cursor: { txid: string; id: number } | null = null;
    for (;;) {
      const { rows }: { rows: { id: number; project_id: string; txid: string }[] } = await client.query(
        `SELECT id, project_id, txid::text AS txid FROM audit_events
         WHERE txid >= $1::xid8 AND txid < $2::xid8 AND ($3::xid8 IS NULL OR (txid, id) > ($3::xid8, $4::bigint))
         ORDER BY txid, id LIMIT $5`,
        [from, to, cursor?.txid ?? null, cursor?.id ?? null, batch],
      );
      if (!rows.length) break;
      const byProject = new Map<string, number[]>();
      for (const row of rows) {
        const ids = byProject.get(row.project_id) ?? [];
        ids.push(Number(row.id));
        byProject.set(row.project_id, ids);
      }
      for (const [projectId, ids] of byProject) {
        const head = await client.query<{ seq: number; hash: Buffer }>('SELECT seq, hash FROM audit_heads WHERE project_id = $1', [projectId]);
        const seq = head.rows[0]?.seq ?? 0;
        const hash = head.rows[0]?.hash ?? Buffer.alloc(32);
        await client.query(LINK_SQL, [projectId, ids, seq, hash]);
        linked += ids.length;
      }
      const last: { id: number; txid: string } = rows[rows.length - 1]!;
      cursor = { txid: last.txid, id: Number(last.id) };
      if (rows.length < batch) break;
    }
    await client.query('UPDATE audit_sealer SET horizon = $1::xid8 WHERE id = 1', [to]);
    await client.query('COMMIT');
    return linked;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

// One ordered pass over the project's links (the primary key gives the order the window needs,
// no sort), each checked against the one before it, its event and the head; the aggregate keeps
// only the count and the first bad link (min of [position, id, reason]), so memory stays constant.
const VERIFY_SQL = `
WITH head AS (SELECT seq, hash FROM audit_heads WHERE project_id = $1),
links AS (
  SELECT c.seq, c.event_id, c.hash, c.prev_hash, e.id AS found,
    row_number() OVER w AS position,
    lag(c.seq) OVER w AS prev_seq,
    lag(c.hash) OVER w AS prev_link_hash,
    audit_event_hash(c.prev_hash, audit_event_content(e.project_id, c.seq, e.kind, e.actor_user_id, e.actor_key_id,
      e.subject_type, e.subject_id, e.item_id, e.item_external_id, e.before, e.after, e.created_at)) AS computed
  -- LATERAL ... OFFSET 0: one event lookup a link, so the plan stays an ordered scan of the
  -- chain's key (a hash join over a project that is most of the table sorts, and spills).
  FROM audit_chain c LEFT JOIN LATERAL (
    SELECT * FROM audit_events e WHERE e.id = c.event_id AND e.project_id = c.project_id OFFSET 0
  ) e ON true
  WHERE c.project_id = $1
  WINDOW w AS (ORDER BY c.seq)
),
checked AS (
  SELECT position, event_id, seq,
    CASE
      WHEN seq <> coalesce(prev_seq, 0) + 1 THEN 1
      WHEN prev_hash <> coalesce(prev_link_hash, ${ZERO_HASH}) THEN 2
      WHEN found IS NULL THEN 3
      WHEN hash <> computed THEN 4
      WHEN seq = (SELECT seq FROM head) AND hash <> (SELECT hash FROM head) THEN 5
    END AS reason
  FROM links
),
verdict AS (
  SELECT count(*) AS events, max(seq) AS last_seq,
    min(ARRAY[position, event_id, reason]) FILTER (WHERE reason IS NOT NULL) AS bad
  FROM checked
)
SELECT events, last_seq, (SELECT seq FROM head) AS head_seq, bad[1] AS bad_position, bad[2] AS bad_id, bad[3] AS bad_reason,
  (SELECT count(*) FROM audit_events e WHERE e.project_id = $1 AND e.txid >= (SELECT horizon FROM audit_sealer)
     AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)) AS pending,
  (SELECT min(e.id) FROM audit_events e WHERE e.project_id = $1 AND e.txid < (SELECT horizon FROM audit_sealer)
     AND NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.event_id = e.id)) AS unchained
FROM verdict`;

/** Checks a project's chain in one pass in Postgres (links what can be linked first). */
export async function verifyAuditChain(pool: Pool, projectId: string): Promise<AuditChainVerdict> {
  await sealAuditEvents(pool);
  const { rows } = await pool.query<{
    events: number;
    last_seq: number | null;
    head_seq: number | null;
    bad_position: number | null;
    bad_id: number | null;
    bad_reason: number | null;
    pending: number;
    unchained: number | null;
  }>(VERIFY_SQL, [projectId]);
  const r = rows[0]!;
  const events = Number(r.events);
  const pending = Number(r.pending);
  const verdict = (first_bad: AuditChainVerdict['first_bad']): AuditChainVerdict => ({ ok: first_bad === null, events, pending, first_bad });
  if (r.bad_position !== null) {
    return verdict({ id: r.bad_id === null ? null : Number(r.bad_id), position: Number(r.bad_position), reason: BREAKS[Number(r.bad_reason) - 1]! });
  }
  const lastSeq = r.last_seq === null ? 0 : Number(r.last_seq);
  const headSeq = r.head_seq === null ? 0 : Number(r.head_seq);
  if (headSeq > lastSeq) return verdict({ id: null, position: events + 1, reason: 'missing_tail' });
  if (r.unchained !== null) return verdict({ id: Number(r.unchained), position: events + 1, reason: 'unchained' });
  return verdict(null);
}

const EVENT_COLUMNS = `e.id, c.seq, e.kind, e.actor_user_id, e.actor_key_id, e.subject_type, e.subject_id, e.item_external_id,
  e.before, e.after, audit_time_text(e.created_at) AS created_at, encode(c.hash, 'hex') AS hash`;

const toEvent = (row: AuditEvent): AuditEvent => ({ ...row, id: Number(row.id), seq: row.seq === null ? null : Number(row.seq) });

/** One page of a project's events in the order they were written (by id), with their links. */
export async function pageAuditEvents(db: Queryable, projectId: string, options: AuditPageOptions & { kinds?: string[] }): Promise<AuditEvent[]> {
  const { after, limit } = assertPage(options);
  const kinds = options.kinds?.length ? options.kinds : null;
  const { rows } = await db.query<AuditEvent>(
    `SELECT ${EVENT_COLUMNS} FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id
     WHERE e.project_id = $1 AND e.id > $2 AND ($3::text[] IS NULL OR e.kind = ANY ($3::text[]))
     ORDER BY e.id LIMIT $4`,
    [projectId, after, kinds, limit],
  );
  return rows.map(toEvent);
}

/**
 * One item's events by id after `after`: those naming it (by its external id), and the ingest
 * batch that created it (an `items.ingested` event names its new items by id range; a project's
 * batches are written one at a time, so the ranges do not overlap).
 */
export async function itemHistory(db: Queryable, projectId: string, item: { id: number; externalId: string }, options: AuditPageOptions): Promise<AuditEvent[]> {
  const { after, limit } = assertPage(options);
  const { rows } = await db.query<AuditEvent>(
    `SELECT * FROM (
       (SELECT ${EVENT_COLUMNS} FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id
         WHERE e.project_id = $1 AND e.item_external_id = $2 AND e.id > $3
         ORDER BY e.id LIMIT $4)
       UNION ALL
       (SELECT ${EVENT_COLUMNS} FROM audit_events e LEFT JOIN audit_chain c ON c.event_id = e.id
         WHERE e.project_id = $1 AND e.kind = 'items.ingested' AND e.id > $3
           AND (e.after->>'first_item_id')::bigint <= $5 AND (e.after->>'last_item_id')::bigint >= $5
         ORDER BY e.id LIMIT 1)
     ) events ORDER BY id LIMIT $4`,
    [projectId, item.externalId, after, limit, item.id],
  );
  return rows.map(toEvent);
}

/** Runs the sealer every `intervalMs` until closed (any number of processes may; one seals at a time). */
export function startAuditSealer(pool: Pool, options: { intervalMs: number; onError: (error: unknown) => void }): { close(): Promise<void> } {
  let running: Promise<unknown> | null = null;
  let closed = false;
  const timer = setInterval(() => {
    // One seal at a time from this process; close() waits for the one in flight.
    if (closed || running) return;
    running = sealAuditEvents(pool)
      .catch(options.onError)
      .finally(() => {
        running = null;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    async close() {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
