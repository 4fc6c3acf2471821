export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
export { createTestRedis, type TestRedis } from './test-redis';
export { TREC_LABELS, trec, insertItems, annotate, seedProject, type SeededProject } from './trec-project';
