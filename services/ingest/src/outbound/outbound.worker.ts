import type { Config } from '@alder/config';
import type { Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { startWorker, webhooksQueue } from '@alder/queues';
import type { ServiceContext } from '@alder/host';
import { insertEventDeliveries } from './deliveries.repository';
import { startDispatcher, type Dispatcher } from './dispatcher';
import { delayBefore } from './retry-schedule';
import { createSender } from './send';
import { targetPolicy } from './target-guard';

export interface OutboundOptions {
  config: Config;
  pool: Pool;
  connection: ServiceContext['connection'];
  prefix: string;
  log: Logger;
  /** Jitter source (tests pass a constant). */
  random?: () => number;
}

/** Fan-out jobs at once: each is one short statement. */
const FAN_OUT_CONCURRENCY = 8;

/**
 * Outbound webhooks in this process: the `webhooks` queue's fan-out (one delivery row per
 * subscription that wants the event) and the dispatcher that sends due deliveries.
 */
export function startOutbound(options: OutboundOptions): { dispatcher: Dispatcher; close(): Promise<void> } {
  const { config, pool, log } = options;
  const random = options.random ?? Math.random;
  const sender = createSender(targetPolicy(config), { timeoutMs: config.WEBHOOK_TIMEOUT_MS, connections: config.WEBHOOK_CONCURRENCY });
  const dispatcher = startDispatcher({
    pool,
    sender,
    log,
    schedule: config.WEBHOOK_RETRY_SCHEDULE,
    concurrency: config.WEBHOOK_CONCURRENCY,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    pollMs: config.WEBHOOK_POLL_MS,
    disableAfter: config.WEBHOOK_DISABLE_AFTER_FAILURES,
    random,
  });
  const worker = startWorker({
    queue: webhooksQueue,
    connection: options.connection,
    prefix: options.prefix,
    concurrency: FAN_OUT_CONCURRENCY,
    log,
    processors: {
      'fan-out': async (event) => {
        // Idempotent without a job claim: the event id is the key of its stored row.
        const written = await insertEventDeliveries(pool, event, delayBefore(config.WEBHOOK_RETRY_SCHEDULE, 0, random)!);
        if (written > 0) dispatcher.wake();
        return { deliveries: written };
      },
    },
  });
  return {
    dispatcher,
    async close() {
      await worker.close();
      await dispatcher.close();
      await sender.close();
    },
  };
}
