import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Dataset } from './dataset.loader';
import type { RoundInfo } from './in-process.loop';
import { createTaskRunner, type SimTask, type TaskResult, type TaskSettings } from './run.tasks';
import { threadEntry } from '@alder/compute/entry';
import type { ProgressMessage, SimulationTask, WorkerInit } from './simulate.thread';

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
 * A pool of `jobs` threads (piscina): training is synchronous CPU work in one thread (TF.js wasm
 * runs single-threaded under Node), so runs of different strategies and repeats go side by side.
 * Each task reports its rounds on a port of its own.
 */
function threadExecutor(init: WorkerInit, jobs: number): Executor {
  // Loaded as every thread of Alder is (threadEntry): `.ts` through tsx from source, `.js` when built.
  const entry = threadEntry(import.meta.url, 'simulate.thread');
  const pool = new Piscina({ filename: entry.filename, workerData: { ...entry.workerData, init }, minThreads: jobs, maxThreads: jobs, idleTimeout: Number.POSITIVE_INFINITY });
  const execute: Execute = async (task, onRound) => {
    const { port1, port2 } = new MessageChannel();
    // The last message on the port (null) says every round was delivered: rounds and the result
    // travel on different ports, so the result may come first.
    const allRounds = new Promise<void>((resolve) => {
      port1.on('message', (message: ProgressMessage) => (message === null ? resolve() : onRound(message)));
    });
    try {
      const result = (await pool.run({ task, progress: port2 } satisfies SimulationTask, { transferList: [port2] })) as TaskResult;
      await allRounds;
      return result;
    } finally {
      port1.close();
    }
  };
  return { slots: Array.from({ length: jobs }, () => execute), close: () => pool.destroy() };
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
  const executor = jobs === 1 ? inlineExecutor(context.data, context.init.settings) : threadExecutor(context.init, jobs);
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
