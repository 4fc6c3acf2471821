import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import pg from 'pg';
import { ADVISORY_LOCKS, createPool, migrate, migrationsDir, type Pool } from '@alder/db';
import { testServiceUrl } from './test-services';

/** The server every test database lives on: DATABASE_URL (see `testServiceUrl`). */
export function testServerUrl(): string {
  return testServiceUrl('postgres');
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

async function templateName(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(migrationsDir)).sort()) hash.update(name).update(await readFile(migrationsDir + name));
  return `alder_template_${hash.digest('hex').slice(0, 12)}`;
}

async function ensureTemplate(admin: pg.Client, serverUrl: string, name: string): Promise<void> {
  // Test files run in parallel workers: one creates the template, the others wait on the lock.
  await admin.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCKS.testTemplate]);
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return;
    await admin.query(`CREATE DATABASE ${name}`);
    const pool = createPool(withDatabase(serverUrl, name), { max: 1 });
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      throw error;
    }
    await pool.end();
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCKS.testTemplate]);
  }
}

export interface TestDatabase {
  url: string;
  pool: Pool;
  /** Ends the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh database for one test file, cloned from a template migrated once per schema version
 * (or, with `migrated: false`, an empty one, as a new deployment's database is before `migrate`).
 */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = testServerUrl();
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const name = `alder_test_${randomBytes(6).toString('hex')}`;
  try {
    if (options.migrated === false) await admin.query(`CREATE DATABASE ${name}`);
    else {
      const template = await templateName();
      await ensureTemplate(admin, serverUrl, template);
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    }
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const pool = createPool(url, { max: 10, applicationName: 'alder-test' });
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
