import { Worker } from 'node:worker_threads';
import { predictProba, type TrainedModel } from '@alder/learning';

/** Class probabilities of a page of texts, row-major n x numClasses. */
export type ScorePage = (texts: string[]) => Promise<Float32Array>;

/** One ranking job's scorer: inline or on the threads; `close` frees what it holds. */
export interface JobScorer {
  score: ScorePage;
  /** Pages worth keeping in flight, so threads compute while the job reads and writes. */
  depth: number;
  close(): void;
}

export type ScoringRequest =
  | { type: 'load'; key: string; params: Uint8Array }
  | { type: 'drop'; key: string }
  | { type: 'score'; id: number; key: string; texts: string[] };

export type ScoringReply = { id: number; probs: Float32Array } | { id: number; error: string };

/** Scores on the job's own thread (small pools, tests, SAMPLING_THREADS=0). */
export function inlineScorer(model: TrainedModel): JobScorer {
  return { score: async (texts) => predictProba(model, texts), depth: 1, close() {} };
}

interface Thread {
  worker: Worker;
  /** Shared by the threads of one set: why the set broke, or null while it works. */
  state: { broken: Error | null };
  inFlight: number;
  pending: Map<number, { resolve: (probs: Float32Array) => void; reject: (error: Error) => void }>;
}

/**
 * A fixed set of worker threads that compute features and the forward pass for ranking jobs:
 * on N cores, re-scoring a large pool runs about N times faster than on the job's thread, and
 * the job's thread is left to read pages and COPY the entries meanwhile. Threads start on first
 * use and live until `close`. Each thread holds the model of every job in progress (by key).
 */
export class ScoringThreads {
  private threads: Promise<Thread[]> | null = null;
  private nextId = 0;
  private nextKey = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`scoring threads: need a whole number >= 1, got ${size}`);
  }

  /** Starts the threads now rather than on first use (they take a moment to load). */
  async start(): Promise<void> {
    await (this.threads ??= this.spawn());
  }

  private spawn(): Promise<Thread[]> {
    // The threads run TypeScript: a small bootstrap registers tsx in each before loading the entry
    // (a .ts entry given to Worker is refused before a loader hook could run).
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./scoring.thread.ts', import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
    const set: Thread[] = [];
    const state: { broken: Error | null } = { broken: null };
    const spawned: Promise<Thread[]> = Promise.all(Array.from({ length: this.size }, () => one()));
    // A thread that dies takes its set with it: pending pages fail (their jobs fail and are
    // retried), the other threads end, and the next job starts a fresh set.
    const breakSet = (error: Error) => {
      if (state.broken) return;
      state.broken = error;
      if (this.threads === spawned) this.threads = null;
      for (const t of set) {
        for (const p of t.pending.values()) p.reject(error);
        t.pending.clear();
        t.worker.removeAllListeners('exit');
        void t.worker.terminate();
      }
    };
    function one(): Promise<Thread> {
      return new Promise<Thread>((resolve, reject) => {
        const worker = new Worker(bootstrap, { eval: true });
        const thread: Thread = { worker, state, inFlight: 0, pending: new Map() };
        set.push(thread);
        const fail = (error: Error) => {
          reject(error);
          breakSet(error);
        };
        worker.on('error', fail);
        worker.on('exit', (code) => fail(new Error(`scoring thread exited with code ${code}`)));
        worker.on('message', (message: 'ready' | ScoringReply) => {
          if (message === 'ready') return resolve(thread);
          const p = thread.pending.get(message.id);
          if (!p) return;
          thread.pending.delete(message.id);
          thread.inFlight--;
          if ('error' in message) p.reject(new Error(message.error));
          else p.resolve(message.probs);
        });
      });
    }
    return spawned;
  }

  /** A scorer for one job's model; the model is sent to every thread once. */
  async forModel(params: Uint8Array): Promise<JobScorer> {
    const threads = await (this.threads ??= this.spawn());
    const key = `m${this.nextKey++}`;
    for (const t of threads) t.worker.postMessage({ type: 'load', key, params } satisfies ScoringRequest);
    const score: ScorePage = (texts) => {
      if (threads[0]!.state.broken) return Promise.reject(threads[0]!.state.broken);
      const thread = threads.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
      const id = this.nextId++;
      thread.inFlight++;
      return new Promise((resolve, reject) => {
        thread.pending.set(id, { resolve, reject });
        thread.worker.postMessage({ type: 'score', id, key, texts } satisfies ScoringRequest);
      });
    };
    return {
      score,
      depth: threads.length + 1,
      close: () => {
        for (const t of threads) t.worker.postMessage({ type: 'drop', key } satisfies ScoringRequest);
      },
    };
  }

  async close(): Promise<void> {
    const threads = await this.threads?.catch(() => []);
    this.threads = null;
    await Promise.all((threads ?? []).map((t) => {
      t.worker.removeAllListeners('exit');
      return t.worker.terminate();
    }));
  }
}
