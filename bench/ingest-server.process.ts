// The ingest service alone in a process of its own, as it is deployed (`alder start ingest`), for
// ingest-stream.bench.ts: started on the bench's database and Redis, it sends its URL over IPC and
// answers 'rss' with the highest RSS it sampled (every 50 ms) since the last question.
import { loadConfig } from '@alder/config';
import { runServices } from '@alder/host';
import { ingestService } from '@alder/ingest';
import { createLogger } from '@alder/logger';
import { createShutdown } from '@alder/runtime';

const [databaseUrl, redisUrl, queuePrefix] = process.argv.slice(2);
const config = loadConfig({ ...process.env, LOG_LEVEL: 'silent', HOST: '127.0.0.1' });
const log = createLogger({ level: process.env.BENCH_LOG_LEVEL ?? 'silent', format: 'json' } as Parameters<typeof createLogger>[0]);
const shutdown = createShutdown(log, config.SHUTDOWN_TIMEOUT_MS, (code) => process.exit(code));
const host = await runServices([ingestService], {
  config: { ...config, QUEUE_PREFIX: queuePrefix! },
  databaseUrl: databaseUrl!,
  redisUrl: redisUrl!,
  log,
  shutdown,
  listen: { host: '127.0.0.1', port: 0 },
});

let peak = process.memoryUsage.rss();
setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 50).unref();
process.on('message', (message) => {
  if (message === 'rss') {
    process.send!({ rss: peak });
    peak = process.memoryUsage.rss();
  } else if (message === 'stop') void shutdown.run('bench done');
});
process.send!({ url: host.url });
