import type { Pool } from '@alder/db';

/**
 * Writes that are bookkeeping, not a change a request makes: an Idempotency-Key's record (kept
 * for the handler's 4xx answers too, by design: openapi/README.md, "Idempotency keys"), the audit
 * trail's seal (every audit read first links the events committed before it into their chains,
 * as the sealer of every process does anyway), and a key's `last_used_at` (touched by
 * authentication on any request, at most once a minute).
 */
const BOOKKEEPING_TABLES = ['idempotency_keys', 'audit_chain', 'audit_heads', 'audit_sealer', 'fuzz_writes'];
const BOOKKEEPING_COLUMNS: Record<string, string[]> = { api_keys: ['last_used_at'] };

/** One row written (inserted, updated or deleted) by a committed transaction. */
export interface Write {
  id: number;
  table: string;
  op: string;
  row: unknown;
}

/**
 * Installs, in a test database, a log of every row any committed transaction writes: an AFTER
 * row trigger on every table of the public schema (and one per statement for TRUNCATE) that
 * inserts into `fuzz_writes`. The log is transactional, so a write rolled back leaves no line,
 * and updates count too (which row counts would miss); asking "anything since line N?" is one
 * index lookup, so it can be asked after every request. For tests only: it slows every write.
 */
export async function installWriteLog(pool: Pool): Promise<void> {
  const ignoredColumns = Object.entries(BOOKKEEPING_COLUMNS)
    .map(([table, columns]) => `WHEN TG_TABLE_NAME = '${table}' THEN ARRAY[${columns.map((c) => `'${c}'`).join(', ')}]`)
    .join(' ');
  await pool.query(`
    CREATE TABLE fuzz_writes (id bigserial PRIMARY KEY, tbl text NOT NULL, op text NOT NULL, row jsonb);
    CREATE FUNCTION fuzz_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      ignored text[] := CASE ${ignoredColumns} ELSE ARRAY[]::text[] END;
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO fuzz_writes (tbl, op) VALUES (TG_TABLE_NAME, TG_OP);
      ELSIF TG_OP = 'UPDATE' AND (to_jsonb(NEW) - ignored) = (to_jsonb(OLD) - ignored) THEN
        NULL;
      ELSE
        INSERT INTO fuzz_writes (tbl, op, row) VALUES (TG_TABLE_NAME, TG_OP, to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END));
      END IF;
      RETURN NULL;
    END $$;
  `);
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> ALL($1::text[])`,
    [BOOKKEEPING_TABLES],
  );
  for (const { name } of rows) {
    await pool.query(`CREATE TRIGGER fuzz_log_rows AFTER INSERT OR UPDATE OR DELETE ON "${name}" FOR EACH ROW EXECUTE FUNCTION fuzz_log_write()`);
    await pool.query(`CREATE TRIGGER fuzz_log_truncate AFTER TRUNCATE ON "${name}" FOR EACH STATEMENT EXECUTE FUNCTION fuzz_log_write()`);
  }
}

/** The last line of the log now (0 before any). */
export async function lastWrite(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ id: string | null }>('SELECT max(id) AS id FROM fuzz_writes');
  return Number(rows[0]?.id ?? 0);
}

/**
 * The writes a refused request may leave, by design: a file import refused once its file is being
 * read aborts its batch, and the batch row (status `aborted`) with its errors stays as the record
 * of the attempt; nothing of its items lands (openapi/README.md, "The file import"). Every other
 * write of a refused request is unexplained.
 */
export function unexplainedWrites(writes: readonly Write[]): Write[] {
  const row = (w: Write) => (w.row ?? {}) as { id?: string; batch_id?: string; status?: string };
  const finalStatus = new Map<string, string | undefined>();
  for (const w of writes) if (w.table === 'ingest_batches' && w.op !== 'DELETE') finalStatus.set(row(w).id ?? '', row(w).status);
  const aborted = (id: string | undefined) => id !== undefined && finalStatus.get(id) === 'aborted';
  return writes.filter((w) => !((w.table === 'ingest_batches' && w.op !== 'DELETE' && aborted(row(w).id)) || (w.table === 'ingest_batch_errors' && w.op === 'INSERT' && aborted(row(w).batch_id))));
}

/** Up to `limit` writes logged after line `after`, oldest first. */
export async function writesSince(pool: Pool, after: number, limit = 200): Promise<Write[]> {
  const { rows } = await pool.query<{ id: string; tbl: string; op: string; row: unknown }>('SELECT id, tbl, op, row FROM fuzz_writes WHERE id > $1 ORDER BY id LIMIT $2', [after, limit]);
  return rows.map((r) => ({ id: Number(r.id), table: r.tbl, op: r.op, row: r.row }));
}
