// Module resolve hook for no-tensorflow.test.ts: appends "importer resolved-url" for every ES
// module import to the file named by data.log (the importer is empty for an entry).
import { appendFileSync } from 'node:fs';

let log;

export function initialize(data) {
  log = data.log;
}

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(log, `${context.parentURL ?? ''} ${resolved.url}\n`);
  return resolved;
}
