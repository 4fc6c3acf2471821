import { Worker } from 'node:worker_threads';
import type { Dataset } from './dataset.loader';
import type { RoundInfo } from './in-process.loop';
import { createTaskRunner, type SimTask, type TaskResult, type TaskSettings } from './run.tasks';
import { threadEntry } from '@alder/compute';
import type { WorkerInit, WorkerMessage } from './simulate.thread';

type Execute = (task: SimTask, onRound: (info: RoundInfo) => void) => Promise<TaskResult>;

/** Executes tasks on up to `jobs` threads; `close` ends them. */
interface Executor {
  slots: Execute[];
  close(): Promise<void>;
}

function inlineExecutor(data: Dataset, settings: TaskSettings): Executor {
  return { slots: [createTaskRunner(data, settings)], close: async () => {} };
}

/**
 * One worker thread per job: training is synchronous CPU work in one thread (TF.js wasm runs
 * single-threaded under Node), so runs of different strategies and repeats go side by side.
 */
async function workerExecutor(init: WorkerInit, jobs: number): Promise<Executor> {
  const workers: Worker[] = [];
  const close = async () => {
    await Promise.all(workers.map((w) => w.terminate()));
  };
  const start = () =>
    new Promise<Execute>((resolve, reject) => {
      // Loaded as every thread of Alder is (threadEntry): `.ts` through tsx from source, `.js` when built.
      const entry = threadEntry(import.meta.url, 'simulate.thread');
      const worker = new Worker(new URL(entry.filename), { workerData: { ...entry.workerData, init } });
      workers.push(worker);
      let nextId = 0;
      const pending = new Map<number, { resolve: (r: TaskResult) => void; reject: (e: Error) => void; onRound: (i: RoundInfo) => void }>();
      const failAll = (error: Error) => {
        reject(error);
        for (const p of pending.values()) p.reject(error);
        pending.clear();
      };
      worker.on('error', failAll);
      worker.on('exit', (code) => {
        if (pending.size) failAll(new Error(`simulation worker exited with code ${code}`));
      });
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          resolve((task, onRound) =>
            new Promise<TaskResult>((res, rej) => {
              const id = nextId++;
              pending.set(id, { resolve: res, reject: rej, onRound });
              worker.postMessage({ id, task });
            }),
          );
          return;
        }
        const p = pending.get(message.id);
        if (!p) return;
        if (message.type === 'round') p.onRound(message.info);
        else {
          pending.delete(message.id);
          if (message.type === 'result') p.resolve(message.result);
          else p.reject(new Error(message.message));
        }
      });
    });
  try {
    return { slots: await Promise.all(Array.from({ length: jobs }, start)), close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Runs every task, `jobs` at a time (in worker threads when jobs > 1, else on this thread), and
 * returns the results in task order. The first failure stops the rest.
 */
export async function runTasks(
  tasks: readonly SimTask[],
  context: { data: Dataset; init: WorkerInit; jobs: number },
  hooks: { onRound: (info: RoundInfo) => void; onResult: (task: SimTask, result: TaskResult) => void },
): Promise<TaskResult[]> {
  const jobs = Math.max(1, Math.min(context.jobs, tasks.length));
  const executor = jobs === 1 ? inlineExecutor(context.data, context.init.settings) : await workerExecutor(context.init, jobs);
  const results: TaskResult[] = new Array(tasks.length);
  let next = 0;
  let failed = false;
  try {
    await Promise.all(
      executor.slots.map(async (execute) => {
        while (!failed && next < tasks.length) {
          const index = next++;
          try {
            results[index] = await execute(tasks[index], hooks.onRound);
          } catch (error) {
            failed = true;
            throw error;
          }
          hooks.onResult(tasks[index], results[index]);
        }
      }),
    );
  } finally {
    await executor.close();
  }
  return results;
}
