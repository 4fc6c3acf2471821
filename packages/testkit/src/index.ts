export { createTestDatabase, testServerUrl, type TestDatabase } from './test-database';
export { createTestRedis, type TestRedis } from './test-redis';
export { LOCAL_URLS, missingLine, planTestServices, testServiceUrl, type TestService, type TestServiceFacts, type TestServicePlan } from './test-services';
export { useTestServers, type TestServers } from './test-servers';
export { freePort } from './free-port';
