import { createLogger } from '@alder/logger';
import { loadConfig } from '@alder/config';
import { createUserWithKey } from '@alder/http';
import { runServices } from '@alder/host';
import { createShutdown } from '@alder/runtime';
import { createTestDatabase, createTestRedis, type TestDatabase } from '@alder/testkit';
import { ingestService } from '@alder/ingest';
import { labelingApiService } from '@alder/labeling-api';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function machine(): string {
  return `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

/** Real texts: every shared dataset's train split, cycled to the size asked for. */
export function texts(count: number): string[] {
  const all: string[] = [];
  for (const name of ['mr', 'subj', 'trec', 'sms_spam']) {
    for (const line of readFileSync(`../../shared/datasets/${name}/train.jsonl`, 'utf8').trim().split('\n')) all.push(JSON.parse(line).text);
  }
  return Array.from({ length: count }, (_, i) => all[i % all.length]!);
}

export interface Stack {
  db: TestDatabase;
  base: string;
  key: string;
  close(): Promise<void>;
}

/**
 * A fresh database and the ingest + labeling services on one HTTP server of this process, run
 * by the same host as `alder start` (pool, Redis, outbox relay, shutdown), and an admin key.
 */
export async function startStack(): Promise<Stack> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', MAX_BODY_BYTES: String(64 * 1024 * 1024), HOST: '127.0.0.1' });
  const log = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', format: 'json' } as Parameters<typeof createLogger>[0]);
  const db = await createTestDatabase();
  const testRedis = createTestRedis();
  // The bench process goes on after the stack closes: the shutdown must not exit it.
  const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS, () => undefined);
  const host = await runServices([ingestService, labelingApiService], {
    config: { ...config, QUEUE_PREFIX: testRedis.prefix },
    databaseUrl: db.url,
    redisUrl: testRedis.url,
    log,
    shutdown,
    listen: { host: '127.0.0.1', port: 0 },
  });
  const { key } = await createUserWithKey(db.pool, { name: 'bench', role: 'admin' });
  return {
    db,
    base: host.url!,
    key,
    async close() {
      await shutdown.run('bench done');
      await testRedis.cleanup();
      await db.drop();
    },
  };
}
