import { withTransaction, type Pool } from '@alder/db';
import type { Logger } from '@alder/logger';
import { claimDueDeliveries, recordAttempts, type AttemptRecord, type ClaimedDelivery } from './deliveries.repository';
import { delayBefore } from './retry-schedule';
import type { AttemptOutcome, Sender } from './send';
import { countDeliveryOutcomes } from './subscriptions.repository';
import { disableSubscription } from './disable';

export interface DispatcherOptions {
  pool: Pool;
  sender: Sender;
  log: Logger;
  /** Delays before each attempt (WEBHOOK_RETRY_SCHEDULE); the first is the fan-out's. */
  schedule: readonly number[];
  /** Deliveries in flight at once (WEBHOOK_CONCURRENCY). */
  concurrency: number;
  /** An attempt's deadline (WEBHOOK_TIMEOUT_MS); a claim is held a minute longer. */
  timeoutMs: number;
  pollMs: number;
  /** Dead letters in a row that disable a subscription (WEBHOOK_DISABLE_AFTER_FAILURES). */
  disableAfter: number;
  /** Jitter source (tests pass a constant). */
  random?: () => number;
}

export interface Dispatcher {
  /** Look for due deliveries now (the fan-out calls it after writing some). */
  wake(): void;
  /** Stops claiming, waits for the attempts in flight and records them. */
  close(): Promise<void>;
}

/** Results are written in batches: this many, or whatever gathered within FLUSH_MS. */
const FLUSH_AT = 200;
const FLUSH_MS = 5;

/**
 * Delivers due webhook deliveries: claims them in batches from Postgres (SKIP LOCKED, so any
 * number of ingest processes run one), sends each with the sender (signed, timed out, targets
 * checked), and records every attempt and its consequence in batches: delivered, retried after
 * the schedule's next delay with jitter, or a dead letter; a 410 disables the subscription at
 * once, `disableAfter` dead letters in a row disable it too.
 */
export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const { pool, sender, log, schedule, concurrency } = options;
  const random = options.random ?? Math.random;
  const leaseMs = options.timeoutMs + 60_000;
  let closed = false;
  let inFlight = 0;
  let pumping: Promise<void> | null = null;
  let again = false;
  const sends = new Set<Promise<void>>();
  let pending: { claimed: ClaimedDelivery; outcome: AttemptOutcome }[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  function decide(claimed: ClaimedDelivery, outcome: AttemptOutcome): AttemptRecord {
    const attempt = claimed.attempts + 1;
    const base = { deliveryId: claimed.id, attempt, ...outcome };
    if (outcome.ok) return { ...base, status: 'delivered', retryInMs: null, scheduleStep: claimed.schedule_step };
    if (outcome.statusCode === 410) return { ...base, status: 'dead', retryInMs: null, scheduleStep: claimed.schedule_step };
    const step = claimed.schedule_step + 1;
    const retryInMs = delayBefore(schedule, step, random);
    return retryInMs === null ? { ...base, status: 'dead', retryInMs: null, scheduleStep: claimed.schedule_step } : { ...base, status: 'pending', retryInMs, scheduleStep: step };
  }

  async function writeResults(batch: { claimed: ClaimedDelivery; outcome: AttemptOutcome }[]): Promise<void> {
    const records = batch.map(({ claimed, outcome }) => decide(claimed, outcome));
    const ended = batch.map(({ claimed }, i) => ({ subscriptionId: claimed.subscription_id, projectId: claimed.project_id, record: records[i]! })).filter((e) => e.record.status !== 'pending');
    // Subscriptions first, then deliveries: the order a subscription's deletion locks them in.
    const tooMany = await withTransaction(pool, async (client) => {
      const over = await countDeliveryOutcomes(client, ended.map((e) => ({ subscriptionId: e.subscriptionId, dead: e.record.status === 'dead' })), options.disableAfter);
      await recordAttempts(client, records);
      return over;
    });
    const gone = new Map(ended.filter((e) => e.record.statusCode === 410).map((e) => [e.subscriptionId, e.projectId]));
    for (const [subscriptionId, projectId] of gone) {
      await disableSubscription(pool, projectId, subscriptionId, 'the receiver answered 410 Gone', log);
    }
    for (const sub of tooMany.filter((s) => !gone.has(s.id))) {
      const last = ended.filter((e) => e.subscriptionId === sub.id).at(-1)?.record;
      await disableSubscription(pool, sub.project_id, sub.id, `${sub.consecutive_failures} deliveries in a row ended as dead letters (last: ${last?.error ?? 'failed'})`, log);
    }
    const soonest = Math.min(...records.filter((r) => r.retryInMs !== null).map((r) => r.retryInMs!));
    if (Number.isFinite(soonest) && soonest < options.pollMs) setTimeout(wake, soonest).unref();
  }

  function flush(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    const batch = pending;
    pending = [];
    if (!batch.length) return;
    flushing = flushing.then(() =>
      writeResults(batch).catch((error) => {
        // The claims lapse after leaseMs and the deliveries are attempted again: at least once.
        log.error({ err: error, deliveries: batch.length }, 'could not record webhook attempts; they will be retried');
      }),
    );
  }

  function attempt(claimed: ClaimedDelivery): void {
    inFlight += 1;
    const done = sender
      .send({ url: claimed.url, webhookId: claimed.event_id, body: claimed.body, secrets: claimed.secrets })
      .then((outcome) => {
        pending.push({ claimed, outcome });
        if (pending.length >= FLUSH_AT) flush();
        else flushTimer ??= setTimeout(flush, FLUSH_MS);
      })
      .finally(() => {
        inFlight -= 1;
        sends.delete(done);
        if (again) wake();
      });
    sends.add(done);
  }

  async function pump(): Promise<void> {
    while (!closed && inFlight < concurrency) {
      const want = Math.min(concurrency - inFlight, 500);
      const claimed = await claimDueDeliveries(pool, want, leaseMs);
      for (const delivery of claimed) attempt(delivery);
      // Fewer than asked: nothing more is due now. Full: more may be, once slots free up.
      again = claimed.length === want;
      if (!again) return;
    }
  }

  function wake(): void {
    if (closed) return;
    if (pumping) {
      again = true;
      return;
    }
    again = false;
    pumping = pump()
      .catch((error) => log.warn({ err: error }, 'could not claim webhook deliveries; will try again'))
      .finally(() => {
        pumping = null;
      });
  }

  const timer = setInterval(wake, options.pollMs);
  wake();

  return {
    wake,
    async close() {
      closed = true;
      clearInterval(timer);
      await pumping;
      await Promise.allSettled([...sends]);
      flush();
      await flushing;
    },
  };
}
