import type { Logger } from '@alder/logger';

/**
 * The fixed order in which a process closes what it runs: stop taking requests, finish the jobs
 * in progress, stop publishing, end the threads, then the connections, and the embedded servers
 * (which everything before still needs) last.
 */
export const SHUTDOWN_PHASES = ['http', 'workers', 'outbox relay', 'retention', 'compute threads', 'redis', 'postgres pool', 'embedded servers'] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

/** Thrown by `step` once the shutdown has begun: the resource is closed; open nothing more. */
export class ShutdownUnderway extends Error {
  constructor(step: string) {
    super(`shutting down: ${step} was opened during the shutdown and is closed with the rest`);
    this.name = 'ShutdownUnderway';
  }
}

export interface Shutdown {
  /**
   * Adds a step to a phase; phases run in SHUTDOWN_PHASES order, steps of one phase in the order
   * added. Once the shutdown has begun, the step is still run, and this throws ShutdownUnderway
   * so whatever is starting stops opening things.
   */
  step(name: string, run: () => Promise<unknown> | unknown, phase: ShutdownPhase): void;
  /** Runs every step once (later calls wait for the first), each logged, under one deadline. */
  run(reason: string, exitCode?: number): Promise<void>;
  /** True once `run` was called. */
  readonly started: boolean;
}

/**
 * The one shutdown path of a process: close HTTP, workers, relay, threads, Redis, the pool and
 * the embedded servers, in that order, logging each step. Past the deadline the process exits
 * with code 1 regardless.
 */
export function createShutdown(log: Logger, deadlineMs: number, exit: (code: number) => void = process.exit): Shutdown {
  const steps: { name: string; run: () => Promise<unknown> | unknown; phase: number }[] = [];
  // (Array.prototype.sort is stable: steps of one phase keep the order they were added in.)
  let running: Promise<void> | null = null;
  let finished = false;
  return {
    get started() {
      return running !== null;
    },
    step(name, run, phase) {
      const index = SHUTDOWN_PHASES.indexOf(phase);
      if (index < 0) throw new RangeError(`unknown shutdown phase ${phase}`);
      if (finished) {
        // Opened after the shutdown finished (a start that went on): close it at once.
        void Promise.resolve()
          .then(run)
          .catch((error: unknown) => log.error({ step: name, err: error }, 'close failed'));
      } else steps.push({ name, run, phase: index });
      // Whatever opened it is still starting while the process stops (a signal during the
      // start): it is closed with the rest, and its opener is told to open nothing more.
      if (running) throw new ShutdownUnderway(name);
    },
    run(reason, exitCode = 0) {
      running ??= (async () => {
        log.info({ reason }, 'shutting down');
        const timer = setTimeout(() => {
          log.error({ deadlineMs }, 'shutdown deadline passed; exiting');
          exit(1);
        }, deadlineMs);
        timer.unref();
        let failed = false;
        const done = new Set<(typeof steps)[number]>();
        // Picked one at a time, so a step added while shutting down (a start still under way
        // opened something) is closed too, in its phase's turn if that has not passed.
        for (;;) {
          const next = steps.filter((step) => !done.has(step)).sort((a, b) => a.phase - b.phase)[0];
          if (!next) break;
          done.add(next);
          const { name, run } = next;
          try {
            await run();
            log.debug({ step: name }, 'closed');
          } catch (error) {
            failed = true;
            log.error({ step: name, err: error }, 'close failed');
          }
        }
        clearTimeout(timer);
        finished = true;
        log.info('shutdown complete');
        exit(failed ? 1 : exitCode);
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
