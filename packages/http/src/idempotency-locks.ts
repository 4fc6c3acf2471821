import { createHash } from 'node:crypto';
import pg from 'pg';
import { ADVISORY_LOCKS, type Pool } from '@alder/db';
import type { Logger } from '@alder/logger';

/** A held key lock; `release` is safe to call more than once. */
export interface KeyLock {
  release(): Promise<void>;
}

/** The locks that say a request with an Idempotency-Key is running, in this process or any other. */
export interface KeyLocks {
  /** The lock of `scope`, or null when a request with the same scope is running. */
  tryLock(scope: string): Promise<KeyLock | null>;
  /** Ends the lock session (every lock it held goes with it). */
  close(): Promise<void>;
}

/** The second key of the two-key advisory lock: 32 bits of the scope's SHA-256. */
function lockKey(scope: string): number {
  return createHash('sha256').update(scope).digest().readInt32BE(0);
}

/**
 * Session-level advisory locks on one connection of their own, opened on first use. Why a lock
 * and not a lock timeout on the row: Postgres frees a session's locks the moment its connection
 * ends, so a process that crashed mid-request frees its keys at once, and a request that is only
 * slow is never taken over. Why one connection of its own and not one per request: holding a pool
 * connection for each running request would let keyed requests take every connection their own
 * handlers then wait for. Session locks are re-entrant, so the same scope twice in this process
 * is refused here, before Postgres is asked. Two scopes whose 32-bit hashes meet in two processes
 * refuse each other (a spurious 409 that a retry gets past); one lost connection loses its locks
 * (logged), so requests running then are no longer told apart from dead ones.
 */
export function createKeyLocks(pool: Pool, log: Logger): KeyLocks {
  const running = new Set<string>();
  let session: Promise<pg.Client> | null = null;

  function connect(): Promise<pg.Client> {
    if (session) return session;
    const { application_name: name } = pool.options as pg.PoolConfig;
    const client = new pg.Client({ ...pool.options, application_name: `${name ?? 'alder'}-idempotency` });
    const opened = client.connect().then(() => client);
    session = opened;
    const forget = () => {
      if (session === opened) session = null;
    };
    client.on('error', (error) => {
      log.warn({ err: error, running: running.size }, 'idempotency lock session lost; its locks went with it');
      forget();
    });
    client.on('end', forget);
    opened.catch(forget);
    return opened;
  }

  return {
    async tryLock(scope) {
      if (running.has(scope)) return null;
      // Taken before the first await, so two requests of this process can not both pass.
      running.add(scope);
      let client: pg.Client;
      try {
        client = await connect();
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [ADVISORY_LOCKS.idempotency, lockKey(scope)]);
        if (!rows[0]!.locked) {
          running.delete(scope);
          return null;
        }
      } catch (error) {
        running.delete(scope);
        throw error;
      }
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          try {
            // Only on the session that took it: a lost session's locks are gone already.
            if (session && (await session.catch(() => null)) === client) {
              await client.query('SELECT pg_advisory_unlock($1, $2)', [ADVISORY_LOCKS.idempotency, lockKey(scope)]);
            }
          } catch (error) {
            log.warn({ err: error }, 'idempotency lock release failed; the lock session is gone, and its locks with it');
          } finally {
            running.delete(scope);
          }
        },
      };
    },

    async close() {
      const current = session;
      session = null;
      const client = current && (await current.catch(() => null));
      await client?.end().catch(() => undefined);
    },
  };
}
