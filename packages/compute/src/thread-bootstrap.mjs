// Loads a TypeScript thread entry in a worker thread: worker threads start without the tsx
// loader the main thread may have registered (and under jest there is none), so register it
// here first. The compiled images load their `.js` entries directly and never come here.
// A plain Worker passes the entry in its workerData; a piscina worker in piscina's.
import { workerData as startData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

const entryUrl = startData?.entry ?? (await import('piscina')).workerData?.entry;
if (typeof entryUrl !== 'string') throw new Error('thread-bootstrap: no entry in workerData');
register();
const entry = await import(entryUrl);
export default entry.default;
