import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { ADVISORY_LOCKS } from './advisory-locks';

/** The folder of numbered SQL migrations shipped with this package. */
export const migrationsDir = fileURLToPath(new URL('../migrations/', import.meta.url));

async function migrationFiles(): Promise<string[]> {
  return (await readdir(migrationsDir)).filter((name) => /^\d{4}_.+\.sql$/.test(name)).sort();
}

/**
 * The migrations this code has that the database has not applied, in order. A service run on its
 * own checks this at start: against a database that is not migrated it would only fail query
 * after query.
 */
export async function pendingMigrations(db: pg.Pool): Promise<string[]> {
  const files = await migrationFiles();
  const table = await db.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  if (!table.rows[0]?.present) return files;
  const done = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
  return files.filter((name) => !done.has(name));
}

/**
 * Applies the pending numbered migrations, each in its own transaction. An advisory lock makes
 * concurrent starters (several replicas, the compose migrate step) wait instead of racing.
 */
export async function migrate(pool: pg.Pool, log?: (message: string) => void): Promise<string[]> {
  const files = await migrationFiles();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
    for (const name of files) {
      if (done.has(name)) continue;
      const sql = await readFile(migrationsDir + name, 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${(error as Error).message}`);
      }
      applied.push(name);
      log?.(`applied migration ${name}`);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]).catch(() => undefined);
    client.release();
  }
  return applied;
}
