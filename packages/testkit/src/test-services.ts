import { loadConfig } from '@alder/config';

/** The two servers integration tests need. */
export type TestService = 'postgres' | 'redis';

/** The variable that names each service's server, as in production. */
export const SERVICE_VARIABLES: Record<TestService, 'DATABASE_URL' | 'REDIS_URL'> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL' };

/** Where a development machine runs them by default (Postgres with trust auth for `postgres`). */
export const LOCAL_URLS: Record<TestService, string> = {
  postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
  redis: 'redis://127.0.0.1:6379',
};

/**
 * Set by the jest global setup for its workers when a service could not be found: the one line
 * saying what is missing. Test support's own hand-over, not configuration, so `loadConfig` does
 * not list it.
 */
export const MISSING_VARIABLE = 'ALDER_TEST_SERVICES_MISSING';

/** What the global setup found out. `docker` and `local` are only probed where they can matter. */
export interface TestServiceFacts {
  env: Partial<Record<'DATABASE_URL' | 'REDIS_URL', string | undefined>>;
  /** A Docker engine answers (testcontainers can start containers). */
  docker: boolean;
  /** Something accepts connections on the service's local default port. */
  local: Record<TestService, boolean>;
}

/** Where one service comes from. */
export type TestServiceSource = { from: 'env'; url: string } | { from: 'container' } | { from: 'local'; url: string };

export type TestServicePlan = { ok: true; services: Record<TestService, TestServiceSource> } | { ok: false; missing: string };

const SERVICES: readonly TestService[] = ['postgres', 'redis'];
const TITLES: Record<TestService, string> = { postgres: 'Postgres', redis: 'Redis' };

/**
 * Per service: its URL variable when set (CI, and any machine that says where its servers are),
 * else a container when a Docker engine answers (a contributor's machine with nothing set up),
 * else the local default when something answers there (a development machine running the
 * servers itself, as README's `pnpm test` has always assumed), else missing.
 */
export function planTestServices(facts: TestServiceFacts): TestServicePlan {
  const services = {} as Record<TestService, TestServiceSource>;
  const missing: TestService[] = [];
  for (const service of SERVICES) {
    const url = facts.env[SERVICE_VARIABLES[service]];
    if (url) services[service] = { from: 'env', url };
    else if (facts.docker) services[service] = { from: 'container' };
    else if (facts.local[service]) services[service] = { from: 'local', url: LOCAL_URLS[service] };
    else missing.push(service);
  }
  return missing.length ? { ok: false, missing: missingLine(missing) } : { ok: true, services };
}

/** The one line that says what is missing and the three ways to provide it. */
export function missingLine(missing: readonly TestService[]): string {
  const what = missing.map((s) => TITLES[s]).join(' and ');
  const variables = missing.map((s) => SERVICE_VARIABLES[s]).join(' / ');
  const ports = missing.map((s) => new URL(LOCAL_URLS[s]).host).join(' / ');
  return `integration tests need ${what}: set ${variables}, or start a Docker engine (testcontainers runs them), or run them on ${ports}; found none of these`;
}

/**
 * The server URL a test file uses: the URL variable (which the global setup sets to the
 * container or local server it chose), or throws the global setup's line when it found none.
 * Outside jest (benchmarks) nothing sets either, and the local default is used as before.
 */
export function testServiceUrl(service: TestService): string {
  const config = loadConfig();
  const url = service === 'postgres' ? config.DATABASE_URL : config.REDIS_URL;
  if (url) return url;
  const missing = process.env[MISSING_VARIABLE];
  if (missing) throw new Error(missing);
  return LOCAL_URLS[service];
}
