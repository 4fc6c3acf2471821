import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** Which backend to try first; 'auto' walks tfjs-node-gpu, tfjs-node, wasm, cpu. */
export type BackendPreference = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

const ORDER: readonly Exclude<BackendPreference, 'auto'>[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

let ready: Promise<string> | undefined;

/**
 * Selects the fastest TF.js backend that works here and returns its name ('tensorflow',
 * 'wasm' or 'cpu'). Idempotent: later calls return the first call's result.
 */
export function initBackend(log: (msg: string) => void = () => {}, preferred: BackendPreference = 'auto'): Promise<string> {
  ready ??= select(log, preferred);
  return ready;
}

async function select(log: (msg: string) => void, preferred: BackendPreference): Promise<string> {
  const order = preferred === 'auto' ? ORDER : [preferred, ...ORDER.filter((b) => b !== preferred)];
  for (const candidate of order) {
    try {
      if (await tryBackend(candidate)) {
        log(`tfjs backend: ${tf.getBackend()} (via ${candidate})`);
        return tf.getBackend();
      }
      log(`tfjs backend ${candidate} did not initialise`);
    } catch (err) {
      log(`tfjs backend ${candidate} unavailable: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error('no TensorFlow.js backend could be initialised');
}

async function tryBackend(candidate: Exclude<BackendPreference, 'auto'>): Promise<boolean> {
  if (candidate === 'tfjs-node-gpu' || candidate === 'tfjs-node') {
    // A computed specifier keeps bundlers and the type checker from requiring these optional
    // native packages; importing one registers the 'tensorflow' backend in the shared engine.
    const specifier = ['@tensorflow', candidate].join('/');
    await importFromHereOrApp(specifier);
    return tf.setBackend('tensorflow');
  }
  if (candidate === 'wasm') {
    // In Node the wasm binaries are read from disk, so point the loader at the package's dist
    // folder (the prefix must end with a separator).
    const require = createRequire(import.meta.url);
    setWasmPaths(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + sep);
  }
  const ok = await tf.setBackend(candidate);
  await tf.ready();
  return ok;
}

/**
 * pnpm only lets this package resolve its own dependencies, so a native backend installed by the
 * application (the trainer service) is looked up from the working directory as well.
 */
async function importFromHereOrApp(specifier: string): Promise<void> {
  try {
    await import(specifier);
  } catch (err) {
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'package.json')).resolve(specifier);
    } catch {
      throw err;
    }
    await import(pathToFileURL(resolved).href);
  }
}
