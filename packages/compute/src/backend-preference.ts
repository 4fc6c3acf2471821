import type { BackendPreference } from '@alder/learning';

/** Maps TF_BACKEND (auto | tensorflow | wasm | cpu) onto the learning package's preference. */
export function backendPreference(value: string | undefined): BackendPreference {
  switch (value) {
    case undefined:
    case 'auto':
      return 'auto';
    // The native backend: the GPU build where it installs, else tfjs-node (initBackend walks on).
    case 'tensorflow':
      return 'tfjs-node-gpu';
    case 'tfjs-node-gpu':
    case 'tfjs-node':
    case 'wasm':
    case 'cpu':
      return value;
    default:
      throw new Error(`unknown TF backend "${value}" (expected auto, tensorflow, wasm or cpu)`);
  }
}
