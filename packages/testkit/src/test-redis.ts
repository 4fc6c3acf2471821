import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { testServiceUrl } from './test-services';

export interface TestRedis {
  url: string;
  /** A BullMQ prefix no other test file uses. */
  prefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

/** The Redis server for tests (`testServiceUrl`) and a queue prefix of this file's own. */
export function createTestRedis(): TestRedis {
  const url = testServiceUrl('redis');
  const prefix = `alder-test-${randomBytes(6).toString('hex')}`;
  return {
    url,
    prefix,
    async cleanup() {
      const redis = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          if (keys.length) await redis.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}
