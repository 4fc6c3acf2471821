import type { Config } from '@alder/config';

type ServerUrl = 'DATABASE_URL' | 'REDIS_URL';

/**
 * A service run on its own needs real servers: embedded ones are only for `alder start`. Throws
 * one error naming every missing variable of those `needed`.
 */
export function requireServerUrls<N extends ServerUrl = ServerUrl>(
  config: Config,
  who: string,
  needed: readonly N[] = ['DATABASE_URL', 'REDIS_URL'] as N[],
): Record<N, string> {
  const missing = needed.filter((name) => !config[name]);
  if (missing.length) {
    throw new Error(`${who} needs ${missing.join(' and ')} (use \`pnpm start\` for the all-in-one with embedded servers)`);
  }
  return Object.fromEntries(needed.map((name) => [name, config[name]!])) as Record<N, string>;
}
