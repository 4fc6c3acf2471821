import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

/** Every environment variable Alder reads, with its default. README lists them. */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.data'),
  QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/).default('alder'),
  ALDER_ADMIN_KEY: z.string().min(24).optional(),
  TF_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  MAX_ITEMS_PER_BATCH: positiveInt.default(10_000),
  OUTBOX_POLL_MS: positiveInt.default(500),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  TRAINER_CONCURRENCY: positiveInt.default(1),
  SAMPLING_CONCURRENCY: positiveInt.default(2),
  SAMPLING_THREADS: z.coerce.number().int().min(0).max(64).default(2),
  EMBEDDED_PG_PORT: port.default(54329),
  EMBEDDED_REDIS_PORT: port.default(63799),
});

export type Config = z.infer<typeof configSchema>;
