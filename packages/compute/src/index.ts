export { createComputePool, inlineCompute, type Compute, type ModelHandle } from './compute-pool';
export { TaskRunner, type ComputeTask, type ModelRef, type ModelSummary, type ScoreOutput, type SelectInput, type SelectOutput, type TrainInput, type TrainOutput } from './compute.tasks';
export { threadEntry } from './thread-entry';
export { backendPreference } from './backend-preference';
export { computePoolFor, computeThreads, requiredBackend } from './compute-config';
