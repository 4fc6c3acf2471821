export { createPool, type Pool, type PoolClient, type Queryable } from './pool';
export { withTransaction } from './transaction';
export { migrate, migrationsDir, pendingMigrations } from './migrate';
export { ADVISORY_LOCKS } from './advisory-locks';
