import { parentPort, workerData } from 'node:worker_threads';
import { loadDataset } from './dataset.loader';
import type { RoundInfo } from './in-process.loop';
import { createTaskRunner, type SimTask, type TaskResult, type TaskSettings } from './run.tasks';

/** What the pool hands each worker thread at start. */
export interface WorkerInit {
  train: string;
  test: string;
  settings: TaskSettings;
}

/** Messages from a worker thread to the pool. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'round'; id: number; info: RoundInfo }
  | { type: 'result'; id: number; result: TaskResult }
  | { type: 'error'; id: number; message: string };

// A worker thread of the in-process simulation: loads the dataset itself (cheaper than cloning
// it into every thread) and runs the tasks the pool sends, one at a time.
const port = parentPort;
if (!port) throw new Error('simulate.thread.ts must run in a worker thread');
const init = (workerData as { init: WorkerInit }).init;
const run = createTaskRunner(await loadDataset(init.train, init.test), init.settings);
const send = (message: WorkerMessage) => port.postMessage(message);
port.on('message', (message: { id: number; task: SimTask }) => {
  run(message.task, (info) => send({ type: 'round', id: message.id, info })).then(
    (result) => send({ type: 'result', id: message.id, result }),
    (error: unknown) => send({ type: 'error', id: message.id, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
send({ type: 'ready' });
