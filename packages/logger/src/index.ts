import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach the logs: API keys, tokens, passwords, connection strings. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'apiKey',
  'key',
  'token',
  'password',
  'secret',
  '*.apiKey',
  '*.token',
  '*.password',
  'config.DATABASE_URL',
  'config.REDIS_URL',
  'config.ALDER_ADMIN_KEY',
];

/** The root logger: pino JSON to stdout; modules and jobs take child loggers from it. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: options.name ? { service: options.name } : undefined,
  };
  return pino(pinoOptions);
}
