// Run by no-tensorflow.test.ts in a fresh `node --import tsx` process: imports each entry of
// ENTRIES (absolute paths) in turn and prints, as JSON, what had been loaded after each: the
// hook's "importer url" lines for ES modules, then "? path" for every CommonJS module.
import { createRequire, register } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const log = process.env.LOAD_LOG;
writeFileSync(log, '');
register(new URL('./record-imports.hook.mjs', import.meta.url), { data: { log } });
const cache = createRequire(import.meta.url).cache;
const loaded = () => [...readFileSync(log, 'utf8').split('\n').filter(Boolean), ...Object.keys(cache).map((path) => `? ${path}`)];

const report = {};
for (const entry of JSON.parse(process.env.ENTRIES)) {
  await import(pathToFileURL(entry).href);
  report[entry] = loaded();
}
process.stdout.write(JSON.stringify(report));
