import { workerData } from 'piscina';
import type { BackendPreference } from '@alder/learning';
import { TaskRunner, type ComputeTask } from './compute.tasks';

// A compute thread of the pool (compute-pool.ts): runs one task at a time, off the event loop
// of the process that serves requests and renews job locks.
const data = (workerData ?? {}) as { backend?: BackendPreference; requiredBackend?: string };
const runner = new TaskRunner({ backend: data.backend ?? 'auto', required: data.requiredBackend });
// Every thread selects its backend as it starts: one that cannot load the backend TF_BACKEND
// demands fails here, at the start, not at its first training.
await runner.initBackend();

export default function runComputeTask(task: ComputeTask): Promise<unknown> {
  return runner.run(task);
}
