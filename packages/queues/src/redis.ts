import { Redis } from 'ioredis';

/**
 * Producers fail fast so the API can answer 503 while Redis is away; workers wait for it
 * (`maxRetriesPerRequest: null`, as BullMQ requires for blocking commands).
 */
export function createRedis(url: string, role: 'producer' | 'worker'): Redis {
  return role === 'worker'
    ? new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true })
    : new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 5_000 });
}

/** BullMQ loses jobs if Redis evicts keys: say so at start when the policy is not `noeviction`. */
export async function checkEvictionPolicy(redis: Redis, warn: (message: string) => void): Promise<string> {
  const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
  const policy = reply[1] ?? 'unknown';
  if (policy !== 'noeviction') {
    warn(`Redis maxmemory-policy is "${policy}"; BullMQ needs "noeviction" or queued work can be lost`);
  }
  return policy;
}
