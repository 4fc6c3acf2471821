import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'piscina';
import { loadDataset } from './dataset.loader';
import type { RoundInfo } from './in-process.loop';
import { createTaskRunner, type SimTask, type TaskResult, type TaskSettings } from './run.tasks';

/** What the pool hands each thread at start. */
export interface WorkerInit {
  train: string;
  test: string;
  settings: TaskSettings;
}

/** One task and the port its rounds are reported on; after the last round, `null`. */
export interface SimulationTask {
  task: SimTask;
  progress: MessagePort;
}

/** What a task's progress port carries: each round, then null once the task is done. */
export type ProgressMessage = RoundInfo | null;

// A thread of the in-process simulation's pool (piscina, loaded by threadEntry as every Alder
// thread is): loads the dataset once (cheaper than cloning it into every thread) and runs the
// tasks it is given, one at a time.
const init = (workerData as { init: WorkerInit }).init;
const run = createTaskRunner(await loadDataset(init.train, init.test), init.settings);

export default async function runSimulationTask({ task, progress }: SimulationTask): Promise<TaskResult> {
  try {
    return await run(task, (info) => progress.postMessage(info satisfies ProgressMessage));
  } finally {
    // Sent on the same port as the rounds, so the pool knows it has seen them all.
    progress.postMessage(null satisfies ProgressMessage);
    progress.close();
  }
}
