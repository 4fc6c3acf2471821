import pg from 'pg';

/** Postgres `bigint` (int8) comes back as a JS number: Alder's ids stay far below 2^53. */
pg.types.setTypeParser(20, (value) => Number.parseInt(value, 10));

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that runs a query: the pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Creates the service's one pool; `application_name` tags its connections in pg_stat_activity. */
export function createPool(
  connectionString: string,
  options: { max?: number; applicationName?: string; onIdleError?: (error: Error) => void; onClientError?: (error: Error) => void } = {},
): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'alder',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (Postgres restarted, shutting down) must not crash the
  // process: the pool drops that client and the next query opens a new connection.
  pool.on('error', options.onIdleError ?? (() => undefined));
  // Nor may a client losing it while checked out (its query rejects; the pool drops it when it is
  // released): an 'error' event with no listener would end the process. Every connection gets a
  // listener for its whole life, before its first checkout.
  const onClientError = options.onClientError ?? (() => undefined);
  pool.on('connect', (client) => client.on('error', onClientError));
  return pool;
}
