import { loadConfig, type Config } from '@alder/config';

/** A service run on its own needs real servers: embedded ones are only for `alder start`. */
export function requireServerUrls(config: Config, service: string): { databaseUrl: string; redisUrl: string } {
  const missing = [!config.DATABASE_URL && 'DATABASE_URL', !config.REDIS_URL && 'REDIS_URL'].filter(Boolean);
  if (missing.length) {
    throw new Error(`${service} needs ${missing.join(' and ')} (use \`pnpm start\` for the all-in-one with embedded servers)`);
  }
  return { databaseUrl: config.DATABASE_URL!, redisUrl: config.REDIS_URL! };
}

/** Config and server URLs for a worker service's `main`; prints one line and exits 1 when invalid. */
export function loadServiceConfigOrExit(service: string): { config: Config; databaseUrl: string; redisUrl: string } {
  try {
    const config = loadConfig();
    return { config, ...requireServerUrls(config, service) };
  } catch (error) {
    process.stderr.write(`${service}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
