import type { Config } from '@alder/config';

/** A service run on its own needs real servers: embedded ones are only for `alder start`. */
export function requireServerUrls(config: Config, service: string): { databaseUrl: string; redisUrl: string } {
  const missing = [!config.DATABASE_URL && 'DATABASE_URL', !config.REDIS_URL && 'REDIS_URL'].filter(Boolean);
  if (missing.length) {
    throw new Error(`${service} needs ${missing.join(' and ')} (use \`pnpm start\` for the all-in-one with embedded servers)`);
  }
  return { databaseUrl: config.DATABASE_URL!, redisUrl: config.REDIS_URL! };
}
