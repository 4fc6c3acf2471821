export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
export { createTestRedis, type TestRedis } from './test-redis';
