import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// The labeling API (and ingest, and the contracts both read) must not load TensorFlow.js: it
// costs start-up time and memory in a process that only reads what the workers computed. What
// they need of @alder/learning comes from '@alder/learning/pure'. Proven in a fresh Node process
// (jest's module registry would hide what Node loads): a resolve hook records every ES module
// import, require.cache every CommonJS module, and the full @alder/learning imported last must
// show '@tensorflow', so the check can fail.

const run = promisify(execFile);
const root = process.cwd();
const here = resolve(root, 'services/labeling-api/test');

/** Imported in this order in one child; what had been loaded after each is checked. */
const ENTRIES = [
  'packages/learning/src/pure.ts',
  'packages/contracts/src/index.ts',
  'services/labeling-api/src/handlers.ts',
  'services/labeling-api/src/index.ts',
  'services/ingest/src/index.ts',
  // The control: the full learning package loads TensorFlow.js.
  'packages/learning/src/index.ts',
];

const short = (url: string) => url.replace(/^file:\/\//, '').replace(`${root}/`, '');

/** The import chain to the first @tensorflow module ('entry -> ... -> .../@tensorflow/...'), or null. */
function tensorflowChain(loaded: string[]): string | null {
  const importer = new Map<string, string>();
  for (const line of loaded) {
    const [from, url] = line.split(' ') as [string, string];
    if (!importer.has(url)) importer.set(url, from);
  }
  const first = [...importer.keys()].find((url) => url.includes('@tensorflow'));
  if (!first) return null;
  const chain = [first];
  for (let at = importer.get(first); at && at !== '?' && chain.length < 50; at = importer.get(at)) chain.unshift(at);
  return chain.map(short).join(' -> ');
}

describe('the labeling API without TensorFlow.js', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'alder-no-tf-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  let report: Record<string, string[]>;
  beforeAll(async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', join(here, 'load-report.child.mjs')], {
      cwd: root,
      env: { ...process.env, LOAD_LOG: join(dir, 'loaded.txt'), ENTRIES: JSON.stringify(ENTRIES.map((e) => resolve(root, e))) },
      maxBuffer: 64 * 1024 * 1024,
    });
    report = JSON.parse(stdout);
  }, 180_000);
  const after = (entry: string) => report[resolve(root, entry)]!;

  it('records what a fresh process loads, and sees TensorFlow.js when the full learning package is imported', () => {
    // A check that saw nothing would pass for the wrong reason.
    expect(after('services/labeling-api/src/handlers.ts').some((line) => line.includes('/fastify/'))).toBe(true);
    // Through whichever learning module got its import resolved first (backend.ts, predict.ts...):
    // siblings load concurrently, so which one it is depends on the machine's timing.
    expect(tensorflowChain(after('packages/learning/src/index.ts'))).toMatch(/-> packages\/learning\/src\/[\w-]+\.ts -> .*@tensorflow\/tfjs\//);
  });

  it('loads no @tensorflow module for the pure learning entry, the contracts and the labeling handlers', () => {
    for (const entry of ENTRIES.slice(0, 3)) expect([entry, tensorflowChain(after(entry))]).toEqual([entry, null]);
  });

  it('loads no @tensorflow module for the labeling API and ingest packages as services (their host included)', () => {
    for (const entry of ENTRIES.slice(3, 5)) expect([entry, tensorflowChain(after(entry))]).toEqual([entry, null]);
  });
});
