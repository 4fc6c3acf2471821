import { createTestDatabase, type TestDatabase } from './test-database';
import { createTestRedis, type TestRedis } from './test-redis';

/** This test file's database and queue prefix, available once its `beforeAll` has run. */
export interface TestServers {
  readonly db: TestDatabase;
  readonly redis: TestRedis;
}

/**
 * Gives the calling test file its own database (cloned from the migrated template) and its own
 * BullMQ prefix: registers the jest `beforeAll` that makes them and the `afterAll` that drops
 * them. Call it at the top level of the file.
 */
export function useTestServers(): TestServers {
  let db: TestDatabase | undefined;
  let redis: TestRedis | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createTestRedis();
  });
  afterAll(async () => {
    await redis?.cleanup();
    await db?.drop();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`useTestServers: the ${what} exists only once beforeAll has run`);
    return value;
  };
  return {
    get db() {
      return ready(db, 'test database');
    },
    get redis() {
      return ready(redis, 'test Redis prefix');
    },
  };
}
