// Worker threads start without the tsx loader the `alder` command registered on the main
// thread: register it here, then load the TypeScript worker (as bin/alder.js does).
import { register } from 'tsx/esm/api';

register();
await import('./run.worker.ts');
