import { execFileSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Logger } from '@alder/logger';
import type { EmbeddedServer } from './embedded-postgres';

function redisServerOnPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts a Redis of our own through `redis-memory-server` (a `redis-server` on PATH, else one it
 * builds), configured as BullMQ needs it: AOF on under `<dataDir>/redis`, `noeviction`.
 */
export async function startEmbeddedRedis(dataDir: string, port: number, log: Logger): Promise<EmbeddedServer> {
  const dir = resolve(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const systemBinary = redisServerOnPath();
  const { RedisMemoryServer } = await import('redis-memory-server');
  const server = new RedisMemoryServer({
    autoStart: false,
    binary: systemBinary ? { systemBinary } : {},
    instance: { port, args: ['--appendonly', 'yes', '--dir', dir, '--maxmemory-policy', 'noeviction'] },
  });
  await server.start();
  const host = await server.getHost();
  const actualPort = await server.getPort();
  log.info({ port: actualPort, binary: systemBinary ?? 'redis-memory-server build' }, 'embedded Redis running');
  return { url: `redis://${host}:${actualPort}`, stop: async () => void (await server.stop()) };
}
