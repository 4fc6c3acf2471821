import { Worker } from 'node:worker_threads';
import type { ServiceThreadData } from './service.thread';

export interface ServiceThread {
  /** Finishes the active jobs, closes the thread's connections and ends the thread. */
  close(): Promise<void>;
}

/** Starts trainer or sampling in a worker thread and resolves once its worker is taking jobs. */
export function startServiceThread(data: ServiceThreadData): Promise<ServiceThread> {
  // The thread runs TypeScript too: a small bootstrap registers tsx in it before loading the
  // entry (a .ts entry file given to Worker is refused before any loader hook could run).
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./service.thread.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`;
  const thread = new Worker(bootstrap, { eval: true, workerData: data });
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(new Error(`${data.service} thread failed to start: ${error.message}`));
    thread.once('error', failed);
    thread.once('exit', (code) => failed(new Error(`exited with code ${code}`)));
    thread.once('message', (message) => {
      if (message !== 'ready') return;
      thread.removeAllListeners('error');
      thread.removeAllListeners('exit');
      resolve({
        close: () =>
          new Promise((done) => {
            thread.once('message', () => void thread.terminate().then(() => done()));
            thread.postMessage('close');
          }),
      });
    });
  });
}
