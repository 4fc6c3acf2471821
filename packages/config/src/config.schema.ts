import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const flag = z.enum(['true', 'false']).transform((value) => value === 'true');

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** `250ms`, `5s`, `5m`, `2h`, `1d`: whole numbers with a unit, so a schedule reads as it runs. */
const duration = z
  .string()
  .trim()
  .regex(/^\d+(ms|s|m|h|d)$/, 'a duration is a whole number and a unit: ms, s, m, h or d (e.g. 5s, 30m)')
  .transform((text) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(text)!;
    return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
  });
const commaList = (value: string) => value.split(',').map((part) => part.trim()).filter(Boolean);

/** Every environment variable Alder reads, with its default. README lists them. */
export const configSchema = z.object({
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().optional(),
  // Local by default: `pnpm start` on a laptop is not reachable from the network. Containers set 0.0.0.0.
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(8080),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Unset: pretty when stdout is a terminal, JSON lines otherwise (@alder/logger decides).
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9_-]+$/).default('alder'),
  ALDER_ADMIN_KEY: z.string().min(24).optional(),
  TF_BACKEND: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  // Browser origins (scheme://host[:port]) allowed to call the API, comma-separated; empty: none.
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s,]+$/, 'an origin is scheme://host[:port], without a path'))),
  MAX_ITEMS_PER_BATCH: positiveInt.default(10_000),
  // Lines of an NDJSON stream landed together while the next are read (two chunks are held).
  INGEST_CHUNK_ROWS: positiveInt.default(25_000),
  // The inflated size a gzip-compressed NDJSON stream may reach (a JSON body's is MAX_BODY_BYTES):
  // a few KB of gzip can inflate to gigabytes.
  MAX_INFLATED_BYTES: positiveInt.default(4 * 2 ** 30),
  OUTBOX_POLL_MS: positiveInt.default(500),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  TRAINER_CONCURRENCY: positiveInt.default(1),
  SAMPLING_CONCURRENCY: positiveInt.default(2),
  SAMPLING_THREADS: z.coerce.number().int().min(0).max(64).default(2),
  // The one pool of compute threads a process runs training, scoring and batch selection on;
  // unset: SAMPLING_THREADS (its older name), at least 1.
  COMPUTE_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  PG_POOL_MAX: positiveInt.max(1000).default(10),
  // How long a job's lock lasts without renewal; BullMQ renews it every half of this.
  TRAINER_LOCK_MS: positiveInt.min(1_000).default(5 * 60_000),
  SAMPLING_LOCK_MS: positiveInt.min(1_000).default(2 * 60_000),
  // Retention of outbox rows, job claims and ended task leases (docs/architecture.md,
  // "Retention"). At least an hour: a job claim (processed_jobs) must outlive every redelivery of
  // its job, and BullMQ redelivers within minutes (5 attempts over ~30 s of backoff; a stalled job
  // once its lock, TRAINER_LOCK_MS / SAMPLING_LOCK_MS, runs out); the relay republishes an outbox
  // row only after a crash between publishing and marking it, seconds later.
  RETENTION_HOURS: positiveInt.min(1).max(24 * 365 * 10).default(7 * 24),
  RETENTION_INTERVAL_MS: positiveInt.min(1_000).default(10 * 60_000),
  // How long the answer to an Idempotency-Key is kept (and the key refused for another request);
  // expired keys are deleted by the retention sweep.
  IDEMPOTENCY_KEY_TTL_HOURS: positiveInt.min(1).max(24 * 365).default(24),
  // How often audit events are linked into their projects' hash chains (@alder/audit).
  AUDIT_SEAL_INTERVAL_MS: positiveInt.min(50).max(600_000).default(1_000),
  // Outbound webhooks (services/ingest/src/outbound). The delay before each attempt of a
  // delivery, the first counted from the event: Standard Webhooks senders' schedule (at once,
  // then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.6 h); each delay but a 0 gets ±20%
  // jitter. After the last attempt fails, the delivery is a dead letter.
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('0s,5s,5m,30m,2h,5h,10h,10h')
    .transform(commaList)
    .pipe(z.array(duration).min(1, 'at least one attempt').max(50))
    .refine((delays) => delays.reduce((a, b) => a + b, 0) <= 7 * 86_400_000, 'the whole schedule fits in a week'),
  // One attempt's deadline, redirects included: a receiver that hangs must not hold a slot.
  WEBHOOK_TIMEOUT_MS: positiveInt.min(100).max(120_000).default(15_000),
  // Targets on private, loopback, link-local (and other non-public) addresses are refused, after
  // DNS resolution and on every redirect, unless allowed here or listed in WEBHOOK_ALLOWED_CIDRS.
  WEBHOOK_ALLOW_PRIVATE_TARGETS: flag.default(false),
  WEBHOOK_ALLOWED_CIDRS: z
    .string()
    .default('')
    .transform(commaList)
    .pipe(z.array(z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'a CIDR is address/prefix, e.g. 10.1.2.0/24 or fd00::/8'))),
  // Dead letters in a row (no success between) after which a subscription is disabled.
  WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt.max(10_000).default(5),
  // Deliveries in flight at once per process (across all receivers).
  WEBHOOK_CONCURRENCY: positiveInt.max(10_000).default(128),
  // How often the dispatcher looks for due attempts when nothing woke it.
  WEBHOOK_POLL_MS: positiveInt.min(10).max(60_000).default(1_000),
  EMBEDDED_PG_PORT: port.default(54329),
  EMBEDDED_REDIS_PORT: port.default(63799),
});

export type Config = z.infer<typeof configSchema>;
