import { createLogger } from '@alder/logger';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres';
import { startEmbeddedRedis } from './embedded-redis';

/** What `alder start` asks of the embedded-servers process. */
export interface EmbeddedRequest {
  dataDir: string;
  postgresPort?: number;
  redisPort?: number;
  logLevel: string;
}

/** What the embedded-servers process answers over IPC. */
export type EmbeddedMessage = { type: 'ready'; databaseUrl?: string; redisUrl?: string } | { type: 'failed'; message: string } | { type: 'stopped' };

// The embedded Postgres and Redis of `alder start`, in a process of their own that `alder start`
// spawned in a new process group: Ctrl-C in a terminal signals the whole foreground group, and
// the servers must outlive Alder's services until those have closed. This process stops them
// when asked ('stop'), or when `alder start` is gone (the IPC channel closes).
const send = (message: EmbeddedMessage) => process.send?.(message);
const servers: { name: string; server: EmbeddedServer }[] = [];
let stopping: Promise<void> | null = null;
// The start in progress: a stop asked for during it (Ctrl-C while the first start runs initdb)
// waits for it, so a server that was half-way up is stopped too, not left running.
let starting: Promise<unknown> = Promise.resolve();

function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await starting.catch(() => undefined);
    for (const { server } of [...servers].reverse()) await server.stop().catch(() => undefined);
    send({ type: 'stopped' });
    process.disconnect?.();
    process.exit(0);
  })();
  return stopping;
}

// Signals reach this group only when sent to it on purpose: stop cleanly then too.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll());
process.on('disconnect', () => void stopAll());
process.on('message', (message) => {
  if (message === 'stop') void stopAll();
});

process.once('message', (request: EmbeddedRequest) => {
  starting = start(request);
});

async function start(request: EmbeddedRequest): Promise<void> {
  const log = createLogger({ level: request.logLevel, name: 'embedded' });
  try {
    let databaseUrl: string | undefined;
    let redisUrl: string | undefined;
    if (request.postgresPort !== undefined && !stopping) {
      const server = await startEmbeddedPostgres(request.dataDir, request.postgresPort, log);
      servers.push({ name: 'postgres', server });
      databaseUrl = server.url;
    }
    if (request.redisPort !== undefined && !stopping) {
      const server = await startEmbeddedRedis(request.dataDir, request.redisPort, log);
      servers.push({ name: 'redis', server });
      redisUrl = server.url;
    }
    // Asked to stop during the start: the servers are being stopped, so they are not ready.
    if (stopping) send({ type: 'failed', message: 'stopped while starting' });
    else send({ type: 'ready', databaseUrl, redisUrl });
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    // Not awaited: stopAll waits for this start to settle first.
    void stopAll();
  }
}
