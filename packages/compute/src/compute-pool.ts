import { Piscina } from 'piscina';
import type { BackendPreference } from '@alder/learning';
import { TaskRunner, type ComputeTask, type ModelRef, type ScoreOutput, type SelectInput, type SelectOutput, type TrainInput, type TrainOutput } from './compute.tasks';
import { threadEntry } from './thread-entry';

/** One job's model on the compute threads. */
export interface ModelHandle {
  /** Class probabilities (and, when asked, embeddings) of a page of texts. */
  score(texts: string[], options?: { embeddings?: boolean }): Promise<ScoreOutput>;
  /** Chooses a batch among candidates scored with `score(..., { embeddings: true })`. */
  select(input: SelectInput): Promise<SelectOutput>;
  /** Pages worth keeping in flight, so the threads compute while the job reads and writes. */
  depth: number;
}

/** Alder's CPU-heavy work, run off the caller's event loop. */
export interface Compute {
  /** How many tasks run at once. */
  readonly threads: number;
  /** The TF.js backend training runs on (selected on the threads, once). */
  backend(): Promise<string>;
  train(input: TrainInput): Promise<TrainOutput>;
  coldStart(texts: string[], seed: number): Promise<number[]>;
  model(params: Uint8Array): ModelHandle;
  /** Waits for running tasks, then ends the threads. */
  close(): Promise<void>;
}

let nextModelKey = 0;

function handleFor(params: Uint8Array, depth: number, run: (task: ComputeTask) => Promise<unknown>, share: boolean): ModelHandle {
  let bytes = params;
  if (share) {
    // Copied into shared memory once: every task of the job then passes it without a copy.
    bytes = new Uint8Array(new SharedArrayBuffer(params.byteLength));
    bytes.set(params);
  }
  const ref: ModelRef = { key: `m${process.pid}-${nextModelKey++}`, params: bytes };
  return {
    depth,
    score: (texts, options) => run({ kind: 'score', model: ref, texts, embeddings: options?.embeddings ?? false }) as Promise<ScoreOutput>,
    select: (input) => run({ kind: 'select', model: ref, input }) as Promise<SelectOutput>,
  };
}

function computeOver(threads: number, depth: number, run: (task: ComputeTask) => Promise<unknown>, share: boolean, close: () => Promise<void>): Compute {
  return {
    threads,
    backend: () => run({ kind: 'backend' }) as Promise<string>,
    train: (input) => run({ kind: 'train', input }) as Promise<TrainOutput>,
    coldStart: (texts, seed) => run({ kind: 'cold-start', texts, seed }) as Promise<number[]>,
    model: (params) => handleFor(params, depth, run, share),
    close,
  };
}

/**
 * The one pool of worker threads (piscina) for training, scoring, batch selection and the cold
 * start. Every service process that does such work owns one, whether it runs alone or in the
 * all-in-one, so a long task never stalls the event loop that renews BullMQ locks and serves
 * HTTP. Threads start on first use.
 */
export function createComputePool(options: { threads: number; backend?: BackendPreference; requiredBackend?: string }): Compute {
  const { threads } = options;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`compute threads: need a whole number >= 1, got ${threads}`);
  const entry = threadEntry(import.meta.url, 'compute.thread');
  let pool: Piscina | undefined;
  const start = (): Piscina => {
    const started = new Piscina({
      filename: entry.filename,
      workerData: { ...entry.workerData, backend: options.backend ?? 'auto', requiredBackend: options.requiredBackend },
      minThreads: threads,
      maxThreads: threads,
      // Threads hold models and the TF.js backend: keep them for the life of the pool.
      idleTimeout: Number.POSITIVE_INFINITY,
      concurrentTasksPerWorker: 1,
    });
    // A thread that fails outside a task (at start: a backend it cannot load) makes piscina emit
    // 'error'; the tasks sent to the pool reject with it, so there is nothing more to do here,
    // but an unheard 'error' event would crash the process.
    started.on('error', () => undefined);
    return started;
  };
  const run = (task: ComputeTask) => (pool ??= start()).run(task);
  return computeOver(threads, threads + 1, run, true, async () => {
    const closing = pool;
    pool = undefined;
    await closing?.close();
  });
}

/**
 * The same tasks on the caller's own thread: for unit and integration tests of the processors
 * that do not exercise threads. Services never use it (their host always gives them a pool).
 */
export function inlineCompute(backend: BackendPreference = 'auto'): Compute {
  const runner = new TaskRunner({ backend });
  return computeOver(1, 1, (task) => runner.run(task), false, async () => undefined);
}
