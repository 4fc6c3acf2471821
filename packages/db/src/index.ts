export { createPool, type Pool, type PoolClient, type Queryable } from './pool';
export { withTransaction } from './transaction';
export { migrate, migrationsDir } from './migrate';
export { ADVISORY_LOCKS } from './advisory-locks';
