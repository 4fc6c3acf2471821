import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig, type Config } from '@alder/config';
import { createLogger } from '@alder/logger';
import { allQueues, createRedis, startOutboxRelay, type OutboxRelay } from '@alder/queues';
import { createTestRedis, type TestRedis } from '@alder/testkit';
import { startOutbound } from '../src/outbound/outbound.worker';
import { startHarness, type Harness } from './harness';

/** A request as the test receiver got it. */
export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  url: string;
}

/**
 * A real local receiver (node:http) whose answer each test sets: `respond` gets each request and
 * answers it (or never does: a receiver that hangs).
 */
export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  respond: (req: Received, res: ServerResponse) => void;
  close(): Promise<void>;
}

export async function startReceiver(host = '127.0.0.1', port = 0): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: '',
    port: 0,
    received: [],
    respond: (_req, res) => res.end('ok'),
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), url: req.url ?? '/' };
      receiver.received.push(got);
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      receiver.respond(got, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://${host}:${receiver.port}/hook`;
  return receiver;
}

/** Settings short enough for tests: retries in tens of milliseconds, a quick timeout. */
export const TEST_WEBHOOK_CONFIG: Partial<Config> = {
  // Private targets stay refused, but for the test receivers' one address.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: false,
  WEBHOOK_ALLOWED_CIDRS: ['127.0.0.1/32'],
  WEBHOOK_RETRY_SCHEDULE: [0, 50, 50],
  // Long enough that an answering local receiver never hits it on a loaded machine (tests count
  // attempts exactly); the hanging-receiver test waits it out once.
  WEBHOOK_TIMEOUT_MS: 2_000,
  WEBHOOK_POLL_MS: 25,
  WEBHOOK_DISABLE_AFTER_FAILURES: 2,
  OUTBOX_POLL_MS: 25,
};

export interface OutboundHarness extends Harness {
  config: Config;
  relay: OutboxRelay;
  close(): Promise<void>;
}

/** The ingest app plus what delivers webhooks in a process: the outbox relay, the fan-out and the dispatcher. */
export async function startOutboundHarness(overrides: Partial<Config> = {}): Promise<OutboundHarness> {
  const settings = { ...TEST_WEBHOOK_CONFIG, ...overrides };
  const h = await startHarness(settings);
  const config = { ...loadConfig({}), ...settings };
  const redis: TestRedis = createTestRedis();
  const connection = createRedis(redis.url, 'worker');
  const log = createLogger({ level: 'silent' });
  const relay = await startOutboxRelay({ pool: h.db.pool, connection, prefix: redis.prefix, queues: allQueues, log, pollMs: config.OUTBOX_POLL_MS });
  // No jitter: every retry is due exactly on the schedule.
  const outbound = startOutbound({ config, pool: h.db.pool, connection, prefix: redis.prefix, log, random: () => 0.5 });
  return {
    ...h,
    config,
    relay,
    async close() {
      await outbound.close();
      await relay.close();
      await connection.quit();
      await redis.cleanup();
      await h.close();
    },
  };
}

/** Polls until `check` returns something other than undefined/false, within a generous budget (not a speed test). */
export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, budgetMs = 30_000): Promise<T> {
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
