import type { Config } from '@alder/config';
import type { Logger } from '@alder/logger';
import { createPool, migrate } from '@alder/db';
import { requireServerUrls } from '@alder/runtime';

/** `alder migrate`: applies pending migrations to DATABASE_URL and exits (the compose migrate step). */
export async function runMigrations(config: Config, log: Logger): Promise<void> {
  const { DATABASE_URL } = requireServerUrls(config, 'alder migrate', ['DATABASE_URL']);
  const pool = createPool(DATABASE_URL, { max: 1, applicationName: 'alder-migrate' });
  try {
    const applied = await migrate(pool, (message) => log.info(message));
    log.info({ applied: applied.length }, 'migrations up to date');
  } finally {
    await pool.end();
  }
}
