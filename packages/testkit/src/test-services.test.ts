import { LOCAL_URLS, MISSING_VARIABLE, missingLine, planTestServices, testServiceUrl, type TestServiceFacts } from './test-services';

const DB = 'postgres://ci@db:5432/postgres';
const REDIS = 'redis://cache:6379';
const facts = (over: Partial<TestServiceFacts> = {}): TestServiceFacts => ({
  env: {},
  docker: false,
  local: { postgres: false, redis: false },
  ...over,
});

describe('planTestServices', () => {
  it('uses DATABASE_URL and REDIS_URL when they are set, whatever else is there', () => {
    const plan = planTestServices(facts({ env: { DATABASE_URL: DB, REDIS_URL: REDIS }, docker: true, local: { postgres: true, redis: true } }));
    expect(plan).toEqual({ ok: true, services: { postgres: { from: 'env', url: DB }, redis: { from: 'env', url: REDIS } } });
  });

  it('starts containers for what is not set when a Docker engine answers, before any local server', () => {
    expect(planTestServices(facts({ docker: true, local: { postgres: true, redis: true } }))).toEqual({
      ok: true,
      services: { postgres: { from: 'container' }, redis: { from: 'container' } },
    });
    expect(planTestServices(facts({ env: { DATABASE_URL: DB }, docker: true }))).toEqual({
      ok: true,
      services: { postgres: { from: 'env', url: DB }, redis: { from: 'container' } },
    });
  });

  it('falls back to the local default servers when they answer and there is no Docker engine', () => {
    expect(planTestServices(facts({ local: { postgres: true, redis: true } }))).toEqual({
      ok: true,
      services: { postgres: { from: 'local', url: LOCAL_URLS.postgres }, redis: { from: 'local', url: LOCAL_URLS.redis } },
    });
    expect(planTestServices(facts({ env: { REDIS_URL: REDIS }, local: { postgres: true, redis: false } }))).toEqual({
      ok: true,
      services: { postgres: { from: 'local', url: LOCAL_URLS.postgres }, redis: { from: 'env', url: REDIS } },
    });
  });

  it('says in one line what is missing when there is neither', () => {
    const none = planTestServices(facts());
    expect(none).toEqual({
      ok: false,
      missing:
        'integration tests need Postgres and Redis: set DATABASE_URL / REDIS_URL, or start a Docker engine (testcontainers runs them), ' +
        'or run them on 127.0.0.1:5432 / 127.0.0.1:6379; found none of these',
    });
    const redisOnly = planTestServices(facts({ env: { DATABASE_URL: DB } }));
    expect(redisOnly).toEqual({ ok: false, missing: missingLine(['redis']) });
    expect(missingLine(['redis'])).toBe(
      'integration tests need Redis: set REDIS_URL, or start a Docker engine (testcontainers runs them), or run them on 127.0.0.1:6379; found none of these',
    );
    // An empty variable is not set.
    expect(planTestServices(facts({ env: { DATABASE_URL: '', REDIS_URL: REDIS } }))).toEqual({ ok: false, missing: missingLine(['postgres']) });
    for (const plan of [none, redisOnly]) expect(plan.ok ? '' : plan.missing).not.toContain('\n');
  });
});

describe('testServiceUrl', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of ['DATABASE_URL', 'REDIS_URL', MISSING_VARIABLE]) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  it('is the URL variable the global setup set', () => {
    process.env.DATABASE_URL = DB;
    process.env.REDIS_URL = REDIS;
    expect([testServiceUrl('postgres'), testServiceUrl('redis')]).toEqual([DB, REDIS]);
  });

  it('throws the global setup\'s line for a service it found nowhere', () => {
    process.env.DATABASE_URL = DB;
    delete process.env.REDIS_URL;
    process.env[MISSING_VARIABLE] = missingLine(['redis']);
    expect(testServiceUrl('postgres')).toBe(DB);
    expect(() => testServiceUrl('redis')).toThrow(missingLine(['redis']));
  });

  it('is the local default outside jest, where nothing set either', () => {
    delete process.env.DATABASE_URL;
    delete process.env[MISSING_VARIABLE];
    expect(testServiceUrl('postgres')).toBe(LOCAL_URLS.postgres);
  });
});
