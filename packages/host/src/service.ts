import type { Redis } from 'ioredis';
import type { Compute } from '@alder/compute';
import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { HandlerDeps, HandlerMap } from '@alder/http';
import type { Logger } from '@alder/logger';
import type { QueueDefinition, RetentionTarget } from '@alder/queues';

/** What a queue-consuming service gets from the host when it starts. */
export interface ServiceContext {
  config: Config;
  pool: Pool;
  /** A worker connection (waits for Redis; BullMQ duplicates it for its blocking commands). */
  connection: Redis;
  prefix: string;
  /** The process's compute threads; present for a service declared `cpuHeavy`. */
  compute: Compute;
  log: Logger;
}

/** A started queue consumer: `close` stops taking jobs and waits for the active ones. */
export interface RunningService {
  close(): Promise<void>;
  /** Facts worth one log line at start (the TF.js backend, concurrency). */
  facts?: Record<string, unknown>;
}

/**
 * How a service declares itself to the host: its name, the HTTP operations it serves, the queue
 * it consumes, whether it writes outbox rows, whether its work is CPU-heavy, and how it starts
 * (its `close` is how it stops). Everything else (pool, Redis, relay, threads, shutdown) is
 * the host's.
 */
export interface ServiceDefinition {
  name: string;
  /** Handlers by operationId, routed from the spec on the host's one HTTP server. */
  handlers?: (deps: HandlerDeps) => HandlerMap;
  /** The queue whose jobs `start` processes. */
  consumes?: QueueDefinition;
  /** Writes outbox rows (follow-up jobs), so the process must run the outbox relay. */
  produces: boolean;
  /** Trains or scores: its work runs on the host's compute threads. */
  cpuHeavy: boolean;
  /**
   * For a CPU-heavy service: how many compute threads it can keep busy, and how to make the pool
   * (its package brings @alder/compute, and with it TensorFlow.js, so the host itself never
   * imports it and an API-only process or image never loads it). The host makes one pool per
   * process, of the most threads any of its services asks for.
   */
  compute?: { threads: (config: Config) => number; createPool: (config: Config, threads: number) => Compute };
  /** Tables this service owns whose old rows the host's retention sweep deletes. */
  retention?: readonly RetentionTarget[];
  /** Starts the queue worker of a service that `consumes`. */
  start?: (context: ServiceContext) => Promise<RunningService>;
}

/** Declares a service (a typed identity: the host reads the fields). */
export function defineService(definition: ServiceDefinition): ServiceDefinition {
  if (definition.consumes && !definition.start) throw new Error(`service ${definition.name} consumes ${definition.consumes.name} but has no start`);
  if (definition.cpuHeavy !== Boolean(definition.compute)) throw new Error(`service ${definition.name}: a CPU-heavy service declares its compute pool, and only it does`);
  return definition;
}
