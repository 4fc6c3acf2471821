import type { Config } from '@alder/config';
import type { BackendPreference } from '@alder/learning';
import { backendPreference } from './backend-preference';
import { createComputePool, type Compute } from './compute-pool';

/** Threads of a pool for scoring: COMPUTE_THREADS, else SAMPLING_THREADS (its older name), at least 1. */
export function computeThreads(config: Pick<Config, 'COMPUTE_THREADS' | 'SAMPLING_THREADS'>): number {
  return config.COMPUTE_THREADS ?? Math.max(1, config.SAMPLING_THREADS);
}

/**
 * The backend an explicit TF_BACKEND demands (the name tf.getBackend() reports), or undefined
 * for `auto`: asked for `tensorflow` and given wasm, a GPU trainer must fail at start, not train
 * on the CPU unnoticed.
 */
export function requiredBackend(value: Config['TF_BACKEND']): string | undefined {
  return value === 'auto' ? undefined : value;
}

/** A compute pool of `threads` threads on the backend TF_BACKEND asks for. */
export function computePoolFor(config: Pick<Config, 'TF_BACKEND'>, threads: number): Compute {
  const backend: BackendPreference = backendPreference(config.TF_BACKEND);
  return createComputePool({ threads, backend, requiredBackend: requiredBackend(config.TF_BACKEND) });
}
