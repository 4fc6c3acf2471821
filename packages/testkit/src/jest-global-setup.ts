// jest globalSetup (root package.json): decides once per run where Postgres and Redis come from
// (planTestServices) and hands the URLs to the test workers through their environment, which
// they inherit from this process.
import { connect } from 'node:net';
import type { StartedTestContainer } from 'testcontainers';
import { LOCAL_URLS, MISSING_VARIABLE, planTestServices, SERVICE_VARIABLES, type TestService } from './test-services';

/** Images of the servers CI runs (Debian's PostgreSQL 15, Redis 7). */
const POSTGRES_IMAGE = 'postgres:15-alpine';
const REDIS_IMAGE = 'redis:7-alpine';
// A refused connection answers at once; this only bounds a port that drops packets.
const LOCAL_PROBE_MS = 2_000;

/** The containers this run started, for jest-global-teardown.ts (same process, same globalThis). */
export const CONTAINERS_KEY = Symbol.for('alder.testkit.containers');
type WithContainers = typeof globalThis & { [CONTAINERS_KEY]?: StartedTestContainer[] };

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

function localAnswers(service: TestService): Promise<boolean> {
  const { hostname, port } = new URL(LOCAL_URLS[service]);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(LOCAL_PROBE_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function startContainer(service: TestService): Promise<{ url: string; container: StartedTestContainer }> {
  if (service === 'postgres') {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer(POSTGRES_IMAGE).start();
    return { url: container.getConnectionUri(), container };
  }
  const { RedisContainer } = await import('@testcontainers/redis');
  const container = await new RedisContainer(REDIS_IMAGE).start();
  return { url: container.getConnectionUrl(), container };
}

export default async function globalSetup(): Promise<void> {
  const env = { DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL };
  const unset = (['postgres', 'redis'] as const).filter((s) => !env[SERVICE_VARIABLES[s]]);
  const docker = unset.length > 0 && (await dockerAnswers());
  const local = { postgres: false, redis: false };
  if (!docker) for (const service of unset) local[service] = await localAnswers(service);

  const plan = planTestServices({ env, docker, local });
  if (!plan.ok) {
    // Tests that need no server still run; each one that does fails with this line.
    process.env[MISSING_VARIABLE] = plan.missing;
    process.stderr.write(`\n${plan.missing}\n`);
    return;
  }
  const started: StartedTestContainer[] = [];
  (globalThis as WithContainers)[CONTAINERS_KEY] = started;
  for (const service of ['postgres', 'redis'] as const) {
    const source = plan.services[service];
    if (source.from === 'env') continue;
    let url: string;
    if (source.from === 'container') {
      const run = await startContainer(service);
      started.push(run.container);
      url = run.url;
    } else url = source.url;
    process.env[SERVICE_VARIABLES[service]] = url;
  }
}
