import { startAuditSealer } from '@alder/audit';
import type { Redis } from 'ioredis';
import type { Compute } from '@alder/compute';
import type { Config } from '@alder/config';
import { createPool, migrate, pendingMigrations, type Pool } from '@alder/db';
import { buildHttpApp, ensureBootstrapKey, idempotencyKeysRetention, type HandlerMap, type HttpApp } from '@alder/http';
import type { Logger } from '@alder/logger';
import { allQueues, checkEvictionPolicy, createRedis, outboxRetention, processedJobsRetention, startOutboxRelay, startRetention, type OutboxRelay } from '@alder/queues';
import type { Shutdown } from '@alder/runtime';
import type { RunningService, ServiceDefinition } from './service';

export interface HostOptions {
  config: Config;
  databaseUrl: string;
  redisUrl: string;
  log: Logger;
  /** The process's one shutdown path: the host adds its steps to their phases. */
  shutdown: Shutdown;
  /** Apply pending migrations first (the all-in-one; separate services run `alder migrate`). */
  migrate?: boolean;
  /** How long a separate service waits for pending migrations before it gives up (default 2 min). */
  migrationWaitMs?: number;
  /** Where HTTP listens; default config.HOST / config.PORT (tests pass port 0). */
  listen?: { host: string; port: number };
}

/** A running set of services. */
export interface Host {
  /** http://host:port when a service serves HTTP. */
  url: string | null;
  app: HttpApp | null;
  /** The admin key ensureBootstrapKey created now (shown once), if it did. */
  createdAdminKey: string | null;
  relay: OutboxRelay | null;
  compute: Compute | null;
}

/**
 * Runs any set of declared services in this process, the same way whoever starts them (a
 * service's own `main`, `alder start`, the end-to-end tests, the benchmarks): one Postgres pool
 * (PG_POOL_MAX), Redis connections by role (a fail-fast producer for /readyz, one worker
 * connection for the queue workers and the relay), one outbox relay when a service produces, one
 * pool of compute threads when a service is CPU-heavy, the bootstrap admin key when a service
 * serves HTTP, and every close on the one shutdown path in its fixed phase. A failed start throws
 * after adding the closes of what it opened, so the caller's shutdown ends it cleanly.
 */
export async function runServices(services: readonly ServiceDefinition[], options: HostOptions): Promise<Host> {
  const { config, log, shutdown } = options;
  const names = services.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error(`a service is listed twice: ${names.join(', ')}`);
  // One service: the process's root logger already names it. Several: each gets a child.
  const logFor = (name: string) => (services.length === 1 ? log : log.child({ service: name }));

  const pool = createPool(options.databaseUrl, {
    max: config.PG_POOL_MAX,
    applicationName: names.length === 1 ? `alder-${names[0]}` : 'alder-all-in-one',
    onIdleError: (err) => log.warn({ err }, 'idle Postgres connection lost'),
    onClientError: (err) => log.warn({ err }, 'Postgres connection lost while in use'),
  });
  shutdown.step('postgres pool', () => pool.end(), 'postgres pool');
  if (options.migrate) await migrate(pool, (message) => log.info(message));
  else {
    // Separate services leave migrations to their own step (`alder migrate`, compose's migrate
    // service): refuse to start on a database that step has not brought up to date.
    // A deploy starts the migrate step and the services together: wait for it a while.
    const pending = await waitForMigrations(pool, options.migrationWaitMs ?? MIGRATION_WAIT_MS, log, shutdown);
    if (pending.length) {
      throw new Error(`the database is missing ${pending.length} migration(s) (${pending[0]}${pending.length > 1 ? ` … ${pending.at(-1)}` : ''}): run \`pnpm migrate\` (alder migrate) first`);
    }
  }

  const worker: Redis = createRedis(options.redisUrl, 'worker');
  const http = services.filter((s) => s.handlers);
  const producer: Redis | null = http.length ? createRedis(options.redisUrl, 'producer') : null;
  shutdown.step(
    'redis',
    async () => {
      producer?.disconnect();
      await worker.quit().catch(() => worker.disconnect());
    },
    'redis',
  );
  await checkEvictionPolicy(worker, (message) => log.warn(message));

  // The pool comes from the CPU-heavy services' own declaration: the compute package loads
  // TensorFlow.js, which an API-only process (labeling-api, ingest) or image never should.
  let compute: Compute | null = null;
  const heavy = services.filter((s) => s.compute);
  if (heavy.length) {
    const threads = Math.max(...heavy.map((s) => s.compute!.threads(config)));
    const created = heavy[0]!.compute!.createPool(config, threads);
    compute = created;
    shutdown.step('compute threads', () => created.close(), 'compute threads');
    // The threads start now and select their TF.js backend: an explicit TF_BACKEND they cannot
    // load fails the start here, for every CPU-heavy service.
    const backend = await created.backend();
    log.info({ threads, backend }, 'compute threads ready');
  }

  let relay: OutboxRelay | null = null;
  if (services.some((s) => s.produces)) {
    relay = await startOutboxRelay({ pool, connection: worker, prefix: config.QUEUE_PREFIX, queues: allQueues, log: log.child({ module: 'outbox' }), pollMs: config.OUTBOX_POLL_MS });
    const started = relay;
    shutdown.step('outbox relay', () => started.close(), 'outbox relay');
  }

  // Every process sweeps (outbox, processed_jobs and idempotency_keys are everyone's; a service
  // adds the tables it owns); an advisory lock lets one sweep at a time.
  const retention = startRetention({
    pool,
    log: log.child({ module: 'retention' }),
    horizonHours: config.RETENTION_HOURS,
    intervalMs: config.RETENTION_INTERVAL_MS,
    targets: [outboxRetention, processedJobsRetention, idempotencyKeysRetention, ...services.flatMap((s) => s.retention ?? [])],
  });
  shutdown.step('retention', () => retention.close(), 'retention');
  // Every process links audit events into their chains too; one seals at a time.
  const sealerLog = log.child({ module: 'audit' });
  const sealer = startAuditSealer(pool, { intervalMs: config.AUDIT_SEAL_INTERVAL_MS, onError: (error) => sealerLog.warn({ err: error }, 'audit sealing failed; next round retries') });
  shutdown.step('audit sealer', () => sealer.close(), 'retention');

  for (const service of services.filter((s) => s.start)) {
    const serviceLog = logFor(service.name);
    const running: RunningService = await service.start!({ config, pool, connection: worker, prefix: config.QUEUE_PREFIX, compute: compute ?? unavailableCompute(service.name), log: serviceLog });
    shutdown.step(`${service.name} worker (finishing active jobs)`, () => running.close(), 'workers');
    serviceLog.info({ queue: service.consumes?.name, ...running.facts }, `${service.name} started`);
  }

  let app: HttpApp | null = null;
  let url: string | null = null;
  let createdAdminKey: string | null = null;
  if (http.length) {
    const handlers: HandlerMap = Object.assign({}, ...http.map((s) => s.handlers!({ config, pool, log: logFor(s.name) })));
    const built = await buildHttpApp({ config, pool, redis: producer!, log, handlers });
    app = built;
    shutdown.step('http', () => built.close(), 'http');
    const bootstrap = await ensureBootstrapKey(pool, config.ALDER_ADMIN_KEY);
    createdAdminKey = bootstrap.created && bootstrap.key ? bootstrap.key : null;
    const listen = options.listen ?? { host: config.HOST, port: config.PORT };
    await built.listen(listen);
    const address = built.server.address();
    const port = address && typeof address === 'object' ? address.port : listen.port;
    const shownHost = listen.host === '0.0.0.0' || listen.host === '::' ? 'localhost' : listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    url = `http://${shownHost}:${port}`;
  }
  return { url, app, createdAdminKey, relay, compute };
}

/** How long a separate service waits for the migrate step (`alder migrate`) started beside it. */
export const MIGRATION_WAIT_MS = 120_000;

/** The migrations still pending after waiting up to `waitMs` for another process to apply them. */
async function waitForMigrations(pool: Pool, waitMs: number, log: Logger, shutdown: Shutdown): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  let pending = await pendingMigrations(pool);
  let told = false;
  while (pending.length && Date.now() < deadline && !shutdown.started) {
    if (!told) log.warn({ pending: pending.length, waitMs }, 'waiting for the migrate step to bring the database up to date');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    pending = await pendingMigrations(pool);
  }
  return pending;
}

/** A service that is not CPU-heavy gets this in place of threads: using it is a declaration bug. */
function unavailableCompute(service: string): Compute {
  const refuse = (): never => {
    throw new Error(`service ${service} is not declared cpuHeavy, so it has no compute threads`);
  };
  return { threads: 0, backend: refuse, train: refuse, coldStart: refuse, model: refuse, close: async () => undefined };
}
