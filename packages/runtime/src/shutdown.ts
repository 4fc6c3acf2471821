import type { Logger } from '@alder/logger';

export interface Shutdown {
  /** Adds a step; steps run in the order they were added. */
  step(name: string, run: () => Promise<unknown> | unknown): void;
  /** Runs every step once (later calls wait for the first), each logged, under one deadline. */
  run(reason: string): Promise<void>;
}

/**
 * The one shutdown path of a process: close HTTP, workers, relay, queues, Redis, the pool, in
 * that order, logging each step. Past the deadline the process exits with code 1 regardless.
 */
export function createShutdown(log: Logger, deadlineMs: number, exit: (code: number) => void = process.exit): Shutdown {
  const steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];
  let running: Promise<void> | null = null;
  return {
    step(name, run) {
      steps.push({ name, run });
    },
    run(reason) {
      running ??= (async () => {
        log.info({ reason }, 'shutting down');
        const timer = setTimeout(() => {
          log.error({ deadlineMs }, 'shutdown deadline passed; exiting');
          exit(1);
        }, deadlineMs);
        timer.unref();
        let failed = false;
        for (const { name, run } of steps) {
          try {
            await run();
            log.info({ step: name }, 'closed');
          } catch (error) {
            failed = true;
            log.error({ step: name, err: error }, 'close failed');
          }
        }
        clearTimeout(timer);
        log.info('shutdown complete');
        exit(failed ? 1 : 0);
      })();
      return running;
    },
  };
}

/**
 * Runs the shutdown on SIGINT and SIGTERM. The listeners stay registered (`on`, not `once`):
 * libraries using signal-exit re-raise a signal when they see no other listener, which would
 * kill the process in the middle of its shutdown. A second signal joins the running shutdown.
 */
export function shutdownOnSignals(shutdown: Shutdown): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown.run(signal));
}
